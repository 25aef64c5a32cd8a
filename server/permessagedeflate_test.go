package server

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
)

// deflateScript is a socket.io-client 4.x in Node on WebSocket alone, with
// the client's defaults (its ws offers permessage-deflate, engine.io-client
// sets the threshold to 1024). It prints, one JSON object a line, the
// extension ws negotiated with its parameters, the size of the first
// "posts" event's content, and the ack of a 64 KiB message it sends
// (compressed by ws, being past the threshold).
const deflateScript = `'use strict';
const io = require('socket.io-client');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const socket = io(process.argv[2], { transports: ['websocket'], reconnection: false, forceNew: true });
socket.on('connect', () => {
  const ws = socket.io.engine.transport.ws;
  const pmd = ws._extensions['permessage-deflate'];
  out({ ev: 'connect', extensions: ws.extensions, params: pmd ? pmd.params : null });
});
socket.on('posts', (e) => {
  out({ ev: 'post', size: e.post.content.length });
  socket.emit('big', 'x'.repeat(64 * 1024), (n) => { out({ ev: 'ack', size: n }); socket.close(); process.exit(0); });
});
socket.on('connect_error', (err) => { out({ ev: 'connect_error', message: err.message }); process.exit(1); });
setTimeout(() => { out({ ev: 'timeout' }); process.exit(1); }, 20000);
`

// bigAcks answers every "big" event with the length of its string, for
// the clients of these tests, and then, unless back is empty, emits back
// as a "back" event.
func bigAcks(env *testEnv, back string) {
	env.srv.SocketIO().On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		_ = s.On("big", func(a ...any) {
			if args, ack := splitAck(a); ack != nil {
				text, _ := args[0].(string)
				ack([]any{len(text)}, nil)
				if back != "" {
					_ = s.Emit("back", back)
				}
			}
		})
	})
}

// TestPerMessageDeflateNodeClient: with SOCKETIO_PER_MESSAGE_DEFLATE on,
// socket.io-client 4.x in Node negotiates permessage-deflate (without
// context takeover both ways), gets an 8 KiB post and sends a 64 KiB
// message the server inflates; off (Node's default), the same client
// negotiates nothing and works the same.
func TestPerMessageDeflateNodeClient(t *testing.T) {
	servertest.MustInstallClients(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "deflate.js")
	if err := os.WriteFile(script, []byte(deflateScript), 0o600); err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat("A post long enough to be compressed, as feeds have them. ", 150)[:8<<10]
	for _, on := range []bool{true, false} {
		t.Run("on="+strconv.FormatBool(on), func(t *testing.T) {
			env := mustStartEnv(t, map[string]string{"SOCKETIO_PER_MESSAGE_DEFLATE": strconv.FormatBool(on)})
			bigAcks(env, "")
			api, _ := mustUser(t, env.url, "deflate@example.com", "Deflate")
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", script, env.url)
			cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(servertest.ClientsDir, "node_modules"))
			cmd.Stderr = os.Stderr
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Wait() }()
			lines := bufio.NewScanner(stdout)
			next := func() map[string]any {
				if !lines.Scan() {
					t.Fatalf("the client stopped: %v", lines.Err())
				}
				var ev map[string]any
				_ = json.Unmarshal(lines.Bytes(), &ev)
				return ev
			}
			ev := next()
			params, _ := ev["params"].(map[string]any)
			if on && (ev["extensions"] != "permessage-deflate" || params["server_no_context_takeover"] != true || params["client_no_context_takeover"] != true) {
				t.Errorf("negotiated %v", ev)
			}
			if !on && ev["extensions"] != "" {
				t.Errorf("negotiated %v with the setting off", ev)
			}
			api.mustCreatePost("A long post", content, 3)
			if ev := next(); ev["ev"] != "post" || ev["size"] != float64(len(content)) {
				t.Errorf("got %v, want the post of %d bytes", ev, len(content))
			}
			if ev := next(); ev["ev"] != "ack" || ev["size"] != float64(64<<10) {
				t.Errorf("got %v, want the ack of 65536", ev)
			}
		})
	}
}

// deflatePageScript connects socket.io-client 4.x on WebSocket alone and
// records the extensions Chromium negotiated, then the ack of a 64 KiB
// message and the size of the 8 KiB one the server sends back.
const deflatePageScript = `  const socket = io(api, { transports: ['websocket'], reconnection: false });
  socket.on('connect', () => {
    window.__log.push({ ev: 'connect', transport: socket.io.engine.transport.name, message: socket.io.engine.transport.ws.extensions });
    socket.emit('big', 'x'.repeat(64 * 1024), (n) => window.__log.push({ ev: 'ack', message: String(n) }));
  });
  socket.on('back', (s) => { window.__log.push({ ev: 'back', message: String(s.length) }); window.__done = true; });
  socket.on('connect_error', (err) => { window.__log.push({ ev: 'connect_error', message: err.message }); window.__done = true; });`

// TestPerMessageDeflateBrowser: in headless Chromium, socket.io-client
// 4.x on WebSocket negotiates permessage-deflate with the setting on
// (Chromium offers it with client_max_window_bits), sends a 64 KiB
// message (compressed by Chromium) and receives an 8 KiB one.
func TestPerMessageDeflateBrowser(t *testing.T) {
	needChromium(t)
	mustInstallAdminUI(t) // playwright-core
	page := mustServePage(t, deflatePageScript)

	env := mustStartEnv(t, map[string]string{"SOCKETIO_PER_MESSAGE_DEFLATE": "true", "CORS_ORIGINS": page})
	back := strings.Repeat("Sent back compressed, as a post would be. ", 200)[:8<<10]
	bigAcks(env, back)
	out := runBrowserScript(t, map[string]any{"page": page + "/?api=" + env.url, "chromium": chromiumPath, "timeoutMs": 30_000})
	want := []browserEvent{
		{Ev: "connect", Transport: "websocket", Message: "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{Ev: "ack", Message: "65536"},
		{Ev: "back", Message: strconv.Itoa(len(back))},
	}
	if !slices.Equal(out.Log, want) {
		t.Errorf("page's events %+v, want %+v (console: %q)", out.Log, want, out.Console)
	}
}
