package server

import (
	"testing"

	"feedrt/server/servertest"
)

// TestProbes: /healthz is liveness only; /readyz follows the store and
// answers 503 JSON once it is gone.
func TestProbes(t *testing.T) {
	env := mustStart(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := servertest.Do(t, "GET", env.url+path, ""); status != 200 {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	if err := env.srv.store.Close(); err != nil {
		t.Fatal(err)
	}
	status, body := servertest.Do(t, "GET", env.url+"/readyz", "")
	if status != 503 || !jsonEqual([]byte(body), `{"message":"Not ready: a dependency is unavailable.","data":[]}`) {
		t.Errorf("/readyz with the store closed: %d %s", status, body)
	}
	if status, _ := servertest.Do(t, "GET", env.url+"/healthz", ""); status != 200 {
		t.Errorf("/healthz with the store closed: %d", status)
	}
	status, body = servertest.Do(t, "GET", env.url+"/no/such/route", "")
	if status != 404 || !jsonEqual([]byte(body), `{"message":"Not found.","data":[]}`) {
		t.Errorf("unknown route: %d %s", status, body)
	}
}
