package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// env builds a getenv from pairs.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestRunRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"arguments", []string{"--port", "1"}, nil, "unexpected arguments"},
		{"port", nil, map[string]string{"PORT": "eighty"}, "PORT"},
		{"short secret", nil, map[string]string{"JWT_SECRET": "short"}, "JWT_SECRET"},
		{"origin", nil, map[string]string{"CORS_ORIGINS": "localhost:3000"}, "CORS_ORIGINS"},
		{"log level", nil, map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"duration", nil, map[string]string{"JWT_TTL": "-1h"}, "JWT_TTL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, env(tc.env), &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// TestRunStartsAndStops: run serves until its context ends (a real
// request included), then returns nil; the log shows the config with the
// secret masked.
func TestRunStartsAndStops(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef-secret"
	port := strconv.Itoa(servertest.FreePort(t))
	addr := "127.0.0.1:" + port
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out servertest.SyncBuffer
	var runErr error
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		runErr = run(ctx, nil, env(map[string]string{
			"HOST": "127.0.0.1", "PORT": port, "DATA_DIR": t.TempDir(), "JWT_SECRET": secret,
			"MONGODB_URI": "", "LOG_LEVEL": "debug", "BCRYPT_COST": "4",
		}), &out)
	}()
	url := "http://" + addr
	servertest.WaitHealthy(t, url, returned, &out)

	// Real requests: a signup and a login (crash_test.go's helpers).
	(&serverProcess{Process: &servertest.Process{URL: url}, t: t}).signupAndLogin("run@example.com")

	cancel()
	storetest.Receive(t, "run to return after cancel", returned)
	if runErr != nil {
		t.Fatalf("run: %v", runErr)
	}
	log := out.String()
	if strings.Contains(log, secret) {
		t.Error("the JWT secret appears in the log")
	}
	if !strings.Contains(log, "jwt_secret=set") || !strings.Contains(log, "msg=stopped") {
		t.Errorf("log lacks the masked config or the stop line:\n%s", log)
	}
}
