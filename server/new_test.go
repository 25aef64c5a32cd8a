package server

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"feedrt/store/boltstore"
	"feedrt/store/storetest"
)

// TestNewReleasesOnFailure: New failing at each of its steps releases
// what the steps before made: the metrics listener's port can be bound
// again, the embedded store's file opened again, and the goroutines
// (engine, broadcaster, Redis clients) are gone.
func TestNewReleasesOnFailure(t *testing.T) {
	for _, tc := range []struct {
		step string
		edit func(t *testing.T, c *Config)
	}{
		{"metrics listener", func(t *testing.T, c *Config) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = ln.Close() })
			c.Ops.MetricsAddr = ln.Addr().String() // taken
		}},
		{"store", func(t *testing.T, c *Config) {
			file := filepath.Join(t.TempDir(), "a-file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			c.Store.DataDir = file // not a folder
		}},
		{"cluster", func(t *testing.T, c *Config) {
			c.Redis.URL, c.Redis.QueueSize = "redis://127.0.0.1:6379/0", 0 // the adapter refuses it
		}},
		{"real-time engine", func(t *testing.T, c *Config) {
			c.Redis.URL, c.SocketIO.ConnectTimeout = "redis://127.0.0.1:6379/0", 0
		}},
		{"routes", func(t *testing.T, c *Config) {
			c.Redis.URL, c.SocketIO.Path = "redis://127.0.0.1:6379/0", "/feed"
		}},
		{"admin UI", func(t *testing.T, c *Config) {
			c.Redis.URL, c.Admin.Username, c.Admin.PasswordBcrypt = "redis://127.0.0.1:6379/0", "admin", "not a hash"
		}},
	} {
		t.Run(tc.step, func(t *testing.T) {
			cfg, err := loadEnv(map[string]string{"DATA_DIR": t.TempDir(), "BCRYPT_COST": "4"})
			if err != nil {
				t.Fatal(err)
			}
			metrics, err := net.Listen("tcp", "127.0.0.1:0") // a free port for the metrics listener
			if err != nil {
				t.Fatal(err)
			}
			cfg.Ops.MetricsAddr = metrics.Addr().String()
			_ = metrics.Close()
			tc.edit(t, &cfg)
			noLeaks := storetest.LeakCheck(t)

			srv, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err == nil {
				_ = srv.Shutdown(context.Background())
				t.Fatalf("New succeeded; the edit for %s should have failed it", tc.step)
			}

			if !strings.Contains(tc.step, "metrics") {
				ln, err := net.Listen("tcp", cfg.Ops.MetricsAddr)
				if err != nil {
					t.Errorf("metrics listener still bound: %v", err)
				} else {
					_ = ln.Close()
				}
			}
			if tc.step != "store" {
				st, err := boltstore.Open(filepath.Join(cfg.Store.DataDir, "feed.db"))
				if err != nil {
					t.Errorf("store file still held: %v", err)
				} else {
					_ = st.Close()
				}
			}
			noLeaks()
		})
	}
}
