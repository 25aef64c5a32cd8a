package storetest_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// startEcho starts a server that answers each line with name and the
// line, and reports on closed each connection that a client or the
// proxy closed.
func startEcho(t *testing.T, name string) (addr string, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						ch <- struct{}{}
						return
					}
					if _, err := io.WriteString(c, name+" "+line); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().String(), ch
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, p *storetest.Proxy) *client {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t, c, bufio.NewReader(c)}
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
}

func (c *client) read(wait time.Duration) (string, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(wait))
	return c.r.ReadString('\n')
}

// want reads the next answer, which must be answer.
func (c *client) want(answer string) {
	c.t.Helper()
	if got, err := c.read(5 * time.Second); err != nil || got != answer+"\n" {
		c.t.Fatalf("got %q, %v; want %q", got, err, answer)
	}
}

// wantSilence: no answer comes, and the connection stays open.
func (c *client) wantSilence(what string) {
	c.t.Helper()
	if got, err := c.read(300 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("%s: %q, %v; want no answer and the connection open", what, got, err)
	}
}

func (c *client) wantEOF(what string) {
	c.t.Helper()
	if got, err := c.read(5 * time.Second); err != io.EOF {
		c.t.Errorf("%s: %q, %v; want EOF", what, got, err)
	}
}

// startProxied starts a proxy to an echo server "a" and a client that
// has had one answer through it.
func startProxied(t *testing.T) (p *storetest.Proxy, c *client, closed <-chan struct{}) {
	t.Helper()
	a, closed := startEcho(t, "a")
	p = storetest.StartProxy(t, a)
	c = dial(t, p)
	c.send("0")
	c.want("a 0")
	return p, c, closed
}

// A new target takes new connections only; a held connection waits,
// open, and goes to the target current when it is released.
func TestProxyTargetAndHold(t *testing.T) {
	p, first, _ := startProxied(t)
	b, _ := startEcho(t, "b")
	p.Hold()
	held := dial(t, p)
	held.send("1")
	held.wantSilence("held connection")
	p.SetTarget(b)
	p.Release()
	held.want("b 1")
	first.send("2")
	first.want("a 2")
}

// Paused, nothing moves and nothing is closed; resumed, what was held
// back arrives.
func TestProxyPause(t *testing.T) {
	p, c, closed := startProxied(t)
	p.Pause()
	c.send("1")
	c.wantSilence("paused")
	select {
	case <-closed:
		t.Fatal("the server's connection closed while paused")
	default:
	}
	p.Resume()
	c.want("a 1")
}

// Cut closes both sides.
func TestProxyCut(t *testing.T) {
	p, c, closed := startProxied(t)
	p.Cut()
	c.wantEOF("client after the cut")
	storetest.Receive(t, "the server's connection closed by the cut", closed)
}

// Intercept sees the requests of open connections and new ones, holds
// back those it blocks on, and decides what becomes of the answers on
// the connection of one it matched.
func TestProxyIntercept(t *testing.T) {
	p, c, closed := startProxied(t)
	release := make(chan struct{})
	p.Intercept(func(request []byte) func([]byte) storetest.Fate {
		switch {
		case bytes.Contains(request, []byte("hold")):
			<-release
		case bytes.Contains(request, []byte("drop")):
			return func([]byte) storetest.Fate { return storetest.Drop }
		case bytes.Contains(request, []byte("close")):
			return func([]byte) storetest.Fate { return storetest.CloseClient }
		}
		return nil
	})
	c.send("hold")
	c.wantSilence("request held")
	close(release)
	c.want("a hold")

	dropped := dial(t, p)
	dropped.send("drop")
	dropped.wantSilence("answer dropped")
	dropped.send("1")
	dropped.wantSilence("answer after the dropped one")
	c.send("2")
	c.want("a 2")

	c.send("close")
	c.wantEOF("answer replaced by a close")
	storetest.Receive(t, "the server's connection closed with the client's", closed)
}
