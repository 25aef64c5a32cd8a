package storetest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy that tests put between a client and a server to
// make the network misbehave in the ways the code under test must
// survive: a server that stalls without closing anything (Pause), a
// network that drops (Cut), a load balancer with no healthy backend
// (Hold) or one that sends the next connection elsewhere (SetTarget), a
// request whose answer is lost or comes late (Intercept). It lives here
// so that the tests of every layer share one.
type Proxy struct {
	ln   net.Listener
	done chan struct{} // closed at cleanup: nothing waits any longer
	wg   sync.WaitGroup

	mu        sync.Mutex
	target    string
	held      chan struct{} // non-nil: new connections wait until it is closed
	paused    chan struct{} // non-nil: no data moves until it is closed
	intercept func(request []byte) (answers func(answer []byte) Fate)
	conns     map[net.Conn]struct{} // both sides of every forwarded connection
	closed    bool
}

// Fate is what becomes of a chunk a server sends back to its client.
type Fate int

const (
	// Deliver: the client gets it.
	Deliver Fate = iota
	// Drop: the client never gets it, and its connection stays open, as
	// when an answer is lost: the client can only time out.
	Drop
	// CloseClient: the connection is closed instead (the client reads EOF
	// where it waits for the answer).
	CloseClient
)

// StartProxy listens on a free loopback port and forwards each new
// connection to target (host:port). At cleanup it closes every
// connection and waits for all its goroutines, so that a test leaves
// nothing running; an Intercept that blocks must have returned by then.
func StartProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, done: make(chan struct{}), target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	tb.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		p.closed = true
		close(p.done)
		p.mu.Unlock()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the host:port clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetTarget sends new connections to target; open ones stay where they
// are, as behind a balancer without sticky sessions.
func (p *Proxy) SetTarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

// Hold makes new connections wait, accepted but not forwarded, until
// Release: a client connecting then neither fails nor gets through.
func (p *Proxy) Hold() { p.shut(&p.held) }

// Release forwards the connections Hold kept waiting, to the target
// current now.
func (p *Proxy) Release() { p.open(&p.held) }

// Pause stops data both ways until Resume, closing nothing: what a
// client sees of a stopped process (SIGSTOP) or a stalled host.
func (p *Proxy) Pause() { p.shut(&p.paused) }

// Resume forwards again, and first what Pause held back.
func (p *Proxy) Resume() { p.open(&p.paused) }

// shut makes whoever waits on *gate wait until open.
func (p *Proxy) shut(gate *chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *gate == nil {
		*gate = make(chan struct{})
	}
}

func (p *Proxy) open(gate *chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *gate != nil {
		close(*gate)
		*gate = nil
	}
}

// Cut closes both sides of every open connection, as when the network
// drops; connections that Hold keeps waiting are not open yet.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// Intercept makes f see each chunk a client writes, on every connection,
// before it is forwarded: a test can match a request there. f may block,
// holding that connection's requests back until it returns. A non-nil
// answers decides, from then on, the fate of every chunk the server
// sends back on that connection; it is in place before the server can
// have seen the request. Nil f forwards requests untouched.
func (p *Proxy) Intercept(f func(request []byte) (answers func(answer []byte) Fate)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.intercept = f
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.forward(client) })
	}
}

// forward relays one connection both ways once Hold lets it through,
// until either side closes it or it is cut.
func (p *Proxy) forward(client net.Conn) {
	defer client.Close()
	target, ok := p.admit(client)
	if !ok {
		return
	}
	defer p.forget(client)
	// Loopback either answers at once or not at all; the bound only keeps
	// a wrong target from stalling the test's cleanup.
	server, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	defer p.forget(server)

	var answers atomic.Pointer[func([]byte) Fate]
	var up sync.WaitGroup
	up.Go(func() {
		p.relay(server, client, func(request []byte) Fate {
			p.mu.Lock()
			intercept := p.intercept
			p.mu.Unlock()
			if intercept != nil {
				if f := intercept(request); f != nil {
					answers.Store(&f)
				}
			}
			return Deliver
		})
	})
	p.relay(client, server, func(answer []byte) Fate {
		if f := answers.Load(); f != nil {
			return (*f)(answer)
		}
		return Deliver
	})
	up.Wait()
}

// admit waits while new connections are held, then tracks client (so
// that Cut closes it, even before its server is dialled) and returns
// the target. It returns false once the proxy is closed.
func (p *Proxy) admit(client net.Conn) (target string, ok bool) {
	for {
		p.mu.Lock()
		held := p.held
		if p.closed {
			p.mu.Unlock()
			return "", false
		}
		if held == nil {
			p.conns[client] = struct{}{}
			target = p.target
			p.mu.Unlock()
			return target, true
		}
		p.mu.Unlock()
		select {
		case <-held:
		case <-p.done:
		}
	}
}

// track tracks c unless the proxy is closed (its cleanup has closed the
// others already).
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// relay copies src to dst a chunk at a time, each one as fate says once
// the proxy is not paused, until either side fails; then it closes both,
// so that the other direction ends too.
func (p *Proxy) relay(dst, src net.Conn, fate func([]byte) Fate) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitResumed() {
				return
			}
			switch fate(buf[:n]) {
			case Deliver:
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			case Drop:
			case CloseClient:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// waitResumed returns once the proxy is not paused, false if it was
// closed meanwhile.
func (p *Proxy) waitResumed() bool {
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	if paused == nil {
		return true
	}
	select {
	case <-paused:
		return true
	case <-p.done:
		return false
	}
}
