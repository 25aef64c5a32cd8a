package mongostore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"feedrt/store"
	"feedrt/store/mongostore"
	"feedrt/store/mongostore/ferretdbtest"
	"feedrt/store/storetest"
)

// pausableProxy forwards TCP connections to a server and can stop
// forwarding without closing anything: what a database does when its
// process is stopped (SIGSTOP) or its host stalls. Connections stay
// open; no answer comes.
type pausableProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	paused bool
	resume chan struct{} // closed when forwarding goes on
	conns  []net.Conn
}

func startPausableProxy(t *testing.T, target string) *pausableProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pausableProxy{ln: ln, target: target, resume: make(chan struct{})}
	close(p.resume)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *pausableProxy) addr() string { return p.ln.Addr().String() }

func (p *pausableProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies from src to dst, holding every chunk while paused.
func (p *pausableProxy) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			wait := p.resume
			p.mu.Unlock()
			<-wait
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

func (p *pausableProxy) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused, p.resume = true, make(chan struct{})
	}
}

func (p *pausableProxy) unpause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resume)
	}
}

func (p *pausableProxy) close() {
	p.unpause()
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestPausedServer: a database that stops answering without closing its
// connections (a stopped process, a stalled host) makes every call fail
// with store.ErrUnavailable within its call timeout, however the driver
// reports it (a timeout, a connection pool it cleared because another
// call failed, ...), even with calls queued for a small pool; once it
// answers again the same store works again.
func TestPausedServer(t *testing.T) {
	srv := ferretdbtest.StartServer(t)
	proxy := startPausableProxy(t, srv.Addr())
	const callTimeout = time.Second
	s, err := mongostore.Open(t.Context(), "mongodb://"+proxy.addr()+"/?maxPoolSize=2", "paused",
		mongostore.WithCallTimeout(callTimeout), mongostore.WithServerSelectionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	u := storetest.MustCreateUser(t, s, "paused@example.com", "Paula")

	proxy.pause()
	for round := range 3 { // the first calls time out; later ones meet a cleared pool
		var wg sync.WaitGroup
		errs := make([]error, 12)
		for i := range errs {
			wg.Go(func() {
				if i%2 == 0 {
					_, errs[i] = s.UserByID(t.Context(), u.ID)
				} else {
					errs[i] = s.UpdateUserStatus(t.Context(), u.ID, "paused")
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("round %d, call %d while paused: %v, want ErrUnavailable", round, i, err)
			}
		}
	}

	proxy.unpause()
	storetest.WaitFor(t, "the store answering again", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
		defer cancel()
		return s.Ping(ctx) == nil
	})
	if got, err := s.UserByID(t.Context(), u.ID); err != nil || got.Email != u.Email {
		t.Errorf("UserByID after the pause: %+v, %v", got, err)
	}
}
