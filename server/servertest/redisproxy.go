package servertest

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// RedisProxy is a TCP proxy in front of a Redis that can get in the way
// of one command: lose the answer after Redis has run it (what a client
// sees when its command times out, or its connection drops, after Redis
// ran it), or hold the command back until the test lets it go.
type RedisProxy struct {
	ln     net.Listener
	target string // host:port of the Redis

	mu    sync.Mutex
	trap  *trap // the next command to get in the way of, or nil
	conns []net.Conn
	wg    sync.WaitGroup
}

// TrapAction is what a trap does to the first command that matches it.
type TrapAction int32

const (
	// Pass: nothing.
	Pass TrapAction = iota
	// LoseAnswer: Redis runs the command, its answer is dropped and the
	// connection stays open: the client times out.
	LoseAnswer
	// CloseForAnswer: Redis runs the command, and the client's connection
	// is closed instead of answering it (the client reads EOF).
	CloseForAnswer
	// Hold: the command reaches Redis only once release is closed.
	Hold
)

type trap struct {
	command []byte // the command's name as go-redis writes it: $4\r\nxadd\r\n
	action  TrapAction
	release chan struct{} // Hold's
	sprung  chan struct{} // closed once Redis has answered (or, Hold, got) the command
	once    sync.Once
}

// StartRedisProxy proxies the Redis at redisURL (redis://host:port/db);
// URL is the proxy's. It is closed at cleanup, with its connections.
func StartRedisProxy(t testing.TB, redisURL string) *RedisProxy {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &RedisProxy{ln: ln, target: u.Host}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// URL is the proxy's redis:// URL (database 0).
func (p *RedisProxy) URL() string { return "redis://" + p.ln.Addr().String() + "/0" }

// Arm makes action happen to the next command named command (lower
// case, as go-redis writes it); the channel returned is closed when it
// has.
func (p *RedisProxy) Arm(command string, action TrapAction, release chan struct{}) <-chan struct{} {
	tr := &trap{command: []byte("\r\n" + command + "\r\n"), action: action, release: release, sprung: make(chan struct{})}
	p.mu.Lock()
	p.trap = tr
	p.mu.Unlock()
	return tr.sprung
}

// take returns the armed trap if chunk (what a client wrote) holds its
// command, disarming it.
func (p *RedisProxy) take(chunk []byte) *trap {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trap == nil || !bytes.Contains(chunk, p.trap.command) {
		return nil
	}
	tr := p.trap
	p.trap = nil
	return tr
}

func (p *RedisProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(client, server) })
	}
}

// pipe relays one connection both ways until either side closes it. A
// trap springs on the connection whose command matched it.
func (p *RedisProxy) pipe(client, server net.Conn) {
	var sprung atomic.Pointer[trap] // the trap of a command sent on this connection
	// Client to server.
	p.wg.Go(func() {
		defer server.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				if tr := p.take(buf[:n]); tr != nil {
					if tr.action == Hold {
						tr.once.Do(func() { close(tr.sprung) })
						<-tr.release
					} else {
						sprung.Store(tr) // before Redis can answer
					}
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	// Server to client.
	defer client.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			tr := sprung.Load()
			switch {
			case tr == nil:
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
			case tr.action == LoseAnswer: // dropped, and so is all that follows
				tr.once.Do(func() { close(tr.sprung) })
			case tr.action == CloseForAnswer:
				tr.once.Do(func() { close(tr.sprung) })
				return
			}
		}
		if err != nil {
			return
		}
	}
}
