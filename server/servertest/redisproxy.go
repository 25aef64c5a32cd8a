package servertest

import (
	"bytes"
	"net/url"
	"sync"
	"testing"

	"feedrt/store/storetest"
)

// RedisProxy is a TCP proxy in front of a Redis that can get in the way
// of one command: lose the answer after Redis has run it (what a client
// sees when its command times out, or its connection drops, after Redis
// ran it), or hold the command back until the test lets it go. The
// proxying is storetest.Proxy's; what is Redis's here is finding the
// command in what a client writes.
type RedisProxy struct {
	proxy *storetest.Proxy

	mu   sync.Mutex
	trap *trap // the next command to get in the way of, or nil
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
	p := &RedisProxy{proxy: storetest.StartProxy(t, u.Host)}
	p.proxy.Intercept(p.intercept)
	return p
}

// URL is the proxy's redis:// URL (database 0).
func (p *RedisProxy) URL() string { return "redis://" + p.proxy.Addr() + "/0" }

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

// intercept springs the armed trap on the connection whose request
// (what a client wrote) holds its command, disarming it.
func (p *RedisProxy) intercept(request []byte) func([]byte) storetest.Fate {
	p.mu.Lock()
	tr := p.trap
	if tr == nil || !bytes.Contains(request, tr.command) {
		p.mu.Unlock()
		return nil
	}
	p.trap = nil
	p.mu.Unlock()
	if tr.action == Hold {
		tr.spring()
		<-tr.release
		return nil
	}
	return tr.answer
}

// answer is the fate of what Redis sends back once the trap's command
// has reached it: that answer and all that follows.
func (tr *trap) answer([]byte) storetest.Fate {
	tr.spring()
	switch tr.action {
	case LoseAnswer:
		return storetest.Drop
	case CloseForAnswer:
		return storetest.CloseClient
	}
	return storetest.Deliver
}

func (tr *trap) spring() { tr.once.Do(func() { close(tr.sprung) }) }
