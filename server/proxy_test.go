package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProxyTrust: the address a failed login counts against is the peer's
// unless the peer is a trusted proxy. Without TRUSTED_PROXIES a forged
// X-Forwarded-For changes nothing; with the test client's 127.0.0.1
// trusted, the header names the client, from its right end (a proxy such
// as nginx appends the address it saw to what the client sent).
func TestProxyTrust(t *testing.T) {
	type login struct {
		xff        string
		wantStatus int
	}
	cases := []struct {
		name    string
		trusted string
		logins  []login
	}{
		{"no proxy trusted", "", []login{
			{"6.6.6.1", 401},
			{"6.6.6.2", 401},
			{"6.6.6.3", 429}, // all three are 127.0.0.1's failures
			{"", 429},
		}},
		{"an untrusted proxy", "10.0.0.0/8", []login{
			{"6.6.6.1", 401},
			{"6.6.6.2", 401},
			{"6.6.6.3", 429},
		}},
		{"127.0.0.1 trusted", "10.0.0.1, 127.0.0.1", []login{
			{"6.6.6.1", 401},
			{"6.6.6.1", 401},
			{"6.6.6.1", 429},
			{"6.6.6.2", 401},
			{"6.6.6.2, 6.6.6.1", 429}, // 6.6.6.1 forging a first hop
			{"", 401},                 // 127.0.0.1 itself, without the header
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadEnv(map[string]string{"TRUSTED_PROXIES": tc.trusted})
			if err != nil {
				t.Fatal(err)
			}
			env := mustStart(t, func(c *Config) {
				c.HTTP.TrustedProxies = cfg.HTTP.TrustedProxies
				c.Auth.LoginAddressBurst, c.Auth.LoginAddressInterval = 2, time.Hour // no refill during the test
				c.Auth.LoginEmailBurst, c.Auth.LoginEmailInterval = 100, time.Hour
			})
			for i, l := range tc.logins {
				body := fmt.Sprintf(`{"email":"nobody%d@example.com","password":"secret1"}`, i)
				req, err := http.NewRequestWithContext(t.Context(), "POST", env.url+"/auth/login", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				if l.xff != "" {
					req.Header.Set("X-Forwarded-For", l.xff)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				_ = res.Body.Close()
				if res.StatusCode != l.wantStatus {
					t.Errorf("login %d (X-Forwarded-For %q): %d %s, want %d", i, l.xff, res.StatusCode, b, l.wantStatus)
				}
			}
		})
	}
}
