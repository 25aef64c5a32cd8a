package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

const (
	goodOrigin = "http://app.example.test:3000"
	badOrigin  = "http://evil.example.test"
)

// TestCORS checks that one origin list governs REST, preflights, the
// polling handshake and the WebSocket upgrade.
func TestCORS(t *testing.T) {
	env := mustStart(t, func(c *Config) { c.CORS.Origins = []string{goodOrigin} })

	cases := []struct {
		name       string
		method     string
		path       string
		origin     string
		preflight  bool
		wantStatus int
		wantAllow  bool
	}{
		{"rest allowed", "GET", "/healthz", goodOrigin, false, 200, true},
		{"rest disallowed", "GET", "/healthz", badOrigin, false, 403, false},
		{"rest preflight allowed", "OPTIONS", "/feed/posts", goodOrigin, true, 204, true},
		{"rest preflight disallowed", "OPTIONS", "/feed/posts", badOrigin, true, 403, false},
		{"unknown route allowed", "GET", "/nope", goodOrigin, false, 404, true},
		{"polling handshake allowed", "GET", "/socket.io/?EIO=4&transport=polling", goodOrigin, false, 200, true},
		{"polling handshake disallowed", "GET", "/socket.io/?EIO=4&transport=polling", badOrigin, false, 200, false},
		{"polling preflight allowed", "OPTIONS", "/socket.io/?EIO=4&transport=polling", goodOrigin, true, 204, true},
		{"polling preflight disallowed", "OPTIONS", "/socket.io/?EIO=4&transport=polling", badOrigin, true, 204, false},
		{"eio3 handshake allowed", "GET", "/socket.io/?EIO=3&transport=polling", goodOrigin, false, 200, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, env.url+tc.path, nil)
			req.Header.Set("Origin", tc.origin)
			if tc.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type,authorization")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			acao := res.Header.Get("Access-Control-Allow-Origin")
			if tc.wantAllow && acao != tc.origin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", acao, tc.origin)
			}
			if tc.wantAllow && strings.HasPrefix(tc.path, "/socket.io/") && res.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("Access-Control-Allow-Credentials = %q, want true (socket.io-client 2.x polls with credentials)", res.Header.Get("Access-Control-Allow-Credentials"))
			}
			if !tc.wantAllow && acao != "" {
				t.Errorf("Access-Control-Allow-Origin = %q for a disallowed origin", acao)
			}
			if tc.preflight && tc.wantAllow {
				methods := res.Header.Get("Access-Control-Allow-Methods")
				for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
					if !strings.Contains(methods, m) {
						t.Errorf("Access-Control-Allow-Methods = %q, lacks %s", methods, m)
					}
				}
				headers := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
				if !strings.Contains(headers, "content-type") || !strings.Contains(headers, "authorization") {
					t.Errorf("Access-Control-Allow-Headers = %q", headers)
				}
			}
		})
	}

	wsURL := webSocketURL(env.url)
	t.Run("websocket allowed", func(t *testing.T) {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {goodOrigin}})
		if err != nil {
			t.Fatalf("upgrade from allowed origin: %v", err)
		}
		defer conn.Close()
		_, msg, err := conn.ReadMessage()
		if err != nil || !strings.HasPrefix(string(msg), "0{") || !strings.Contains(string(msg), `"sid":`) {
			t.Errorf("first frame %q, %v; want the Engine.IO open packet", msg, err)
		}
	})
	t.Run("websocket disallowed", func(t *testing.T) {
		conn, res, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {badOrigin}})
		if err == nil {
			conn.Close()
			t.Fatal("upgrade from a disallowed origin succeeded")
		}
		if res == nil || res.StatusCode < 400 {
			t.Errorf("refusal answer %v, want a 4xx", res)
		}
	})
}

// TestCORSWildcard: "*" lets any page in, for local development.
func TestCORSWildcard(t *testing.T) {
	env := mustStart(t, func(c *Config) { c.CORS.Origins = []string{"*"} })
	req, _ := http.NewRequest("GET", env.url+"/socket.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", badOrigin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != badOrigin && got != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q", got)
	}
	wsURL := webSocketURL(env.url)
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {badOrigin}})
	if err != nil {
		t.Fatalf("upgrade with * allowed: %v", err)
	}
	conn.Close()
}
