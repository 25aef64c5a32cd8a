package server

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkBroadcast measures one `posts`-sized broadcast reaching every
// one of N raw WebSocket clients of the in-process server (clients and
// server share the process, so allocations include the clients' reads).
//
//	go test ./server -run '^$' -bench Broadcast -benchmem
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			env := mustStart(b, nil)
			ws := "ws" + strings.TrimPrefix(env.url, "http") + "/socket.io/?EIO=4&transport=websocket"
			var received atomic.Int64
			var wg sync.WaitGroup
			conns := make([]*websocket.Conn, 0, n)
			for range n {
				c, _, err := websocket.DefaultDialer.Dial(ws, nil)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
				_, _, _ = c.ReadMessage() // open
				_ = c.WriteMessage(websocket.TextMessage, []byte("40"))
				_, _, _ = c.ReadMessage() // connect
				wg.Go(func() {
					for {
						_, msg, err := c.ReadMessage()
						if err != nil {
							return
						}
						if len(msg) == 1 && msg[0] == '2' {
							_ = c.WriteMessage(websocket.TextMessage, []byte("3"))
							continue
						}
						received.Add(1)
					}
				})
			}
			payload := map[string]any{"action": "create", "post": map[string]any{
				"_id": "6b0691681e9a705b920c7fac", "title": "Hello world", "content": strings.Repeat("Some content. ", 10),
				"imageUrl":  "images/aa51b65dd470b5471d1c229ffbafcb86.png",
				"creator":   map[string]any{"_id": "6b0691671e9a705b920c7fab", "name": "Foo"},
				"createdAt": "2026-11-25T07:42:32.230Z", "updatedAt": "2026-11-25T07:42:32.230Z",
			}}
			b.ResetTimer()
			for i := range b.N {
				env.srv.bc.Broadcast("posts", payload)
				want := int64(n) * int64(i+1)
				deadline := time.Now().Add(30 * time.Second)
				for received.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("broadcast %d reached %d of %d clients", i, received.Load()-int64(n)*int64(i), n)
					}
					time.Sleep(50 * time.Microsecond) // polling the condition
				}
			}
			b.StopTimer()
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		})
	}
}
