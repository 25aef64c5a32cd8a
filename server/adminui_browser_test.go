package server

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"feedrt/server/servertest"
)

// adminUIDir holds the Admin UI harness: @socket.io/admin-ui (whose
// ui/dist the browser test serves) and playwright-core.
const adminUIDir = "../testdata/adminui"

// TestAdminUIBrowser runs the official Admin UI (the package's ui/dist,
// unchanged, on an origin of its own) in headless Chromium against the
// real server: a wrong password shows the UI's login error; with the
// right one the sockets page lists the test sockets with their transports,
// the UI makes one join a room and disconnects another, whose client
// sees the server disconnect it.
func TestAdminUIBrowser(t *testing.T) {
	needChromium(t)
	mustInstallAdminUI(t)
	uiOrigin := mustServeAdminUI(t)
	edit := withAdminUI(t, false)
	env := mustStart(t, func(c *Config) { edit(c); c.CORS.Origins = []string{uiOrigin} })

	polling := servertest.MustNodeClient(t, map[string]any{"url": env.url, "transports": []string{"polling"}})
	ws := servertest.MustNodeClient(t, map[string]any{"url": env.url, "transports": []string{"websocket"}, "reconnection": false})
	pollingID, wsID := polling.MustConnect().ID.(string), ws.MustConnect().ID.(string)

	cfg := map[string]any{
		"ui":         uiOrigin + "/",
		"server":     env.url,
		"username":   adminUser,
		"password":   adminPassword,
		"sockets":    []map[string]string{{"id": pollingID, "transport": "polling"}, {"id": wsID, "transport": "websocket"}},
		"join":       map[string]string{"id": pollingID, "room": "ui-room"},
		"disconnect": wsID,
		"serverId":   env.srv.cfg.Admin.ServerID,
		"artifacts":  artifactsDir("feedrt-adminui"),
		"shots":      os.Getenv("BROWSER_ARTIFACTS") != "",
		"chromium":   chromiumPath,
		"timeoutMs":  90_000,
	}
	runNodeScript(t, adminUIDir, "e2e.mjs", cfg, 110*time.Second)

	// What the UI did reached the clients and the server.
	if m := ws.Next(10*time.Second, "disconnect"); m.Reason != "io server disconnect" {
		t.Errorf("the socket the UI disconnected: %+v, want disconnect by the server", m)
	}
	admin := mustAdmin(t, env.url, map[string]any{"username": adminUser, "password": adminPassword})
	admin.MustConnect()
	all := mustDecode[[]adminSocketJSON](t, admin.wait(t, "all_sockets", nil)[0])
	if s, ok := bySocketID(all, pollingID); !ok || !slices.Contains(s.Rooms, "ui-room") {
		t.Errorf("socket %s after the UI's join: %+v (listed: %v), want it in ui-room", pollingID, s, ok)
	}
	if _, ok := bySocketID(all, wsID); ok {
		t.Errorf("socket %s is still listed after the UI disconnected it", wsID)
	}
}

// mustInstallAdminUI runs npm ci in the harness when its packages are
// missing or older than the lock file.
func mustInstallAdminUI(t *testing.T) {
	t.Helper()
	lock := filepath.Join(adminUIDir, "package-lock.json")
	if olderThan(t, filepath.Join(adminUIDir, "node_modules", ".package-lock.json"), []string{lock}) {
		npm(t, adminUIDir, 5*time.Minute, "ci", "--no-audit", "--no-fund")
	}
}

// mustServeAdminUI serves the package's ui/dist on a port of its own and
// returns that origin (http://127.0.0.1:port).
func mustServeAdminUI(t *testing.T) string {
	t.Helper()
	dist := filepath.Join(adminUIDir, "node_modules", "@socket.io", "admin-ui", "ui", "dist")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dist)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
