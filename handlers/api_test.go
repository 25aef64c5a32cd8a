package handlers

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"feedrt/store"
)

// apiCase is one row of the contract tables: a request through the real
// engine and store, the status and body expected, the event expected (by
// golden file name; "" means no event at all), and optional checks of
// side effects.
type apiCase struct {
	name       string
	method     string
	url        string // {alice1}, {bob1}, {alice2}: seeded post ids; {unknown}: a fresh id
	caller     string // see env.token
	body       func(*env) body
	wantStatus int
	want       string // JSON compared after normalisation, or "golden:<name>"
	wantEvent  string // or "action:<action>" to check only the action
	check      func(t *testing.T, e *env, w *httptest.ResponseRecorder)
}

// runCases runs each case against a freshly seeded env, in parallel.
// Beyond what the case states it checks that every answer is JSON, that
// failures broadcast nothing and leave the images directory as it was.
func runCases(t *testing.T, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil).seed()
			before := e.imageFiles()
			var b body
			if tc.body != nil {
				b = tc.body(e)
			}
			w := e.do(tc.method, e.expand(tc.url), tc.caller, b)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", w.Code, tc.wantStatus, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			if golden, ok := strings.CutPrefix(tc.want, "golden:"); ok {
				e.checkGolden(golden, w.Body.Bytes())
			} else if tc.want != "" {
				e.checkJSON(w.Body.Bytes(), tc.want)
			}
			e.checkEvents(tc.wantEvent, w.Body.Bytes())
			if tc.wantStatus >= 400 {
				if after := e.imageFiles(); !slices.Equal(before, after) {
					t.Errorf("images directory changed by a failed request: %v -> %v", before, after)
				}
			}
			if tc.check != nil {
				tc.check(t, e, w)
			}
		})
	}
}

// checkEvents checks that exactly the expected event was broadcast (or none),
// that its payload matches the golden file, and that a post it carries is
// the post of the response.
func (e *env) checkEvents(golden string, respBody []byte) {
	e.t.Helper()
	events := e.bc.take()
	if golden == "" {
		if len(events) != 0 {
			e.t.Errorf("broadcast %d events, want none: %+v", len(events), events)
		}
		return
	}
	if len(events) != 1 {
		e.t.Fatalf("broadcast %d events, want 1: %+v", len(events), events)
	}
	if events[0].event != "posts" {
		e.t.Errorf("event name %q, want posts", events[0].event)
	}
	payload, err := json.Marshal(events[0].payload)
	if err != nil {
		e.t.Fatal(err)
	}
	var ev, resp struct {
		Action string
		Post   json.RawMessage
	}
	mustUnmarshal(e.t, payload, &ev)
	if action, ok := strings.CutPrefix(golden, "action:"); ok {
		if ev.Action != action {
			e.t.Errorf("event action %q, want %q", ev.Action, action)
		}
	} else {
		e.checkGolden(golden, payload)
	}
	mustUnmarshal(e.t, respBody, &resp)
	if bytes.HasPrefix(ev.Post, []byte("{")) && !bytes.Equal(ev.Post, resp.Post) {
		e.t.Errorf("event post %s differs from response post %s", ev.Post, resp.Post)
	}
}

// expand fills the id placeholders of a URL.
func (e *env) expand(url string) string {
	for key, p := range e.posts {
		url = strings.ReplaceAll(url, "{"+key+"}", p.ID.Hex())
	}
	return strings.ReplaceAll(url, "{unknown}", store.NewID().Hex())
}

// j is a JSON body.
func j(s string) func(*env) body {
	return func(*env) body { return jsonBody(s) }
}

// f is a multipart body.
func f(fields map[string]string, up *upload) func(*env) body {
	return func(*env) body { return form(fields, up) }
}

// validPost is a valid title and content with the given extra fields.
func validPost(extra map[string]string) map[string]string {
	m := map[string]string{"title": "A fine title", "content": "Some fine content"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// unauthorized are the 401 rows every authenticated route gets.
func unauthorized(method, url string, b func(*env) body) []apiCase {
	var cases []apiCase
	for _, caller := range []string{"", "expired", "forged", "none", "hs512", "noexp", "stringexp", "garbage", "basic", "empty-bearer"} {
		name := caller
		if name == "" {
			name = "no token"
		}
		cases = append(cases, apiCase{
			name: method + " " + url + " " + name, method: method, url: url, caller: caller, body: b,
			wantStatus: 401, want: `{"message":"Not authenticated.","data":[]}`,
		})
	}
	return cases
}
