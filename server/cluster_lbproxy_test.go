package server

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lbProxy is a TCP load balancer without sticky sessions: it forwards
// each new connection to its current target, can hold new connections
// back (a client then waits, as behind a balancer with no healthy
// backend) and cut every open one (the network drops).
type lbProxy struct {
	t      *testing.T
	ln     net.Listener
	mu     sync.Mutex
	addr   string        // current target, host:port
	gate   chan struct{} // non-nil: new connections wait until it is closed
	conns  map[net.Conn]struct{}
	closed bool // at cleanup: no more forwarding
	wg     sync.WaitGroup
}

// mustLB listens on a free port, forwarding to target (a URL), and stops
// at cleanup.
func mustLB(t *testing.T, target string) *lbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lbProxy{t: t, ln: ln, addr: lbAddr(target), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.cut()
		p.mu.Lock()
		if p.gate != nil {
			close(p.gate)
			p.gate = nil
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func lbAddr(url string) string { return strings.TrimPrefix(url, "http://") }

func (p *lbProxy) url() string { return "http://" + p.ln.Addr().String() }

// hold makes new connections wait for release.
func (p *lbProxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate == nil {
		p.gate = make(chan struct{})
	}
}

// release forwards new connections (and those waiting) to target.
func (p *lbProxy) release(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addr = lbAddr(target)
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
}

// cut closes every forwarded connection, both sides.
func (p *lbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *lbProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

func (p *lbProxy) forward(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		<-gate
	}
	p.mu.Lock()
	addr := p.addr
	p.mu.Unlock()
	backend, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return
	}
	defer backend.Close()
	if !p.track(client, backend) {
		return
	}
	var copies sync.WaitGroup
	copies.Add(2)
	pipe := func(dst, src net.Conn) {
		defer copies.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	go pipe(backend, client)
	go pipe(client, backend)
	copies.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, backend)
	p.mu.Unlock()
}

// track registers a forwarded pair, unless the balancer has stopped.
func (p *lbProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}
