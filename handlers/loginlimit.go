package handlers

import (
	"container/list"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// FailureLimit allows Burst failed logins at once, then one per Every.
type FailureLimit struct {
	Burst int
	Every time.Duration
}

// LoginLimits configures a LoginLimiter.
type LoginLimits struct {
	// PerAddress counts the failures from one client address, whatever
	// the e-mail; it is the larger, as an office behind one NAT shares it.
	PerAddress FailureLimit
	// PerEmail counts the failures for one normalised e-mail, whatever
	// the address, so a botnet cannot guess one account's password.
	PerEmail FailureLimit
	// MaxKeys bounds each table (addresses, e-mails). Entries go as soon
	// as their allowance is whole again; past MaxKeys the least recently
	// used goes first, so rotating addresses or e-mails cannot grow
	// memory without bound (an entry is a few hundred bytes).
	MaxKeys int
}

// LoginLimiter limits failed logins per client address and per e-mail.
// Only failures use up the allowance: a login is refused (429) while
// either of its keys has none left, and a successful one costs nothing.
// It is per process; servers in a cluster each count their own.
type LoginLimiter struct {
	now     func() time.Time
	byAddr  *failureTable
	byEmail *failureTable
}

// NewLoginLimiter builds the limiter; now is the clock (time.Now outside
// tests).
func NewLoginLimiter(l LoginLimits, now func() time.Time) (*LoginLimiter, error) {
	if now == nil {
		return nil, fmt.Errorf("login limiter: no clock")
	}
	if l.MaxKeys < 1 {
		return nil, fmt.Errorf("login limiter: MaxKeys %d, want at least 1", l.MaxKeys)
	}
	byAddr, err := newFailureTable("address", l.PerAddress, l.MaxKeys)
	if err != nil {
		return nil, err
	}
	byEmail, err := newFailureTable("e-mail", l.PerEmail, l.MaxKeys)
	if err != nil {
		return nil, err
	}
	return &LoginLimiter{now: now, byAddr: byAddr, byEmail: byEmail}, nil
}

// loginAttempt is a login let through by begin, whose outcome end records.
type loginAttempt struct {
	l           *LoginLimiter
	addr, email *failures // email is nil when the login has no e-mail key
}

// begin lets a login from addr for the normalised e-mail through, or
// answers how long to wait. email "" (no account can have it) counts
// against the address only. IPv6 addresses count by their /64, which
// one client commonly holds whole. The attempt holds one unit of each
// allowance until end, so simultaneous logins cannot overdraw it.
func (l *LoginLimiter) begin(addr, email string) (loginAttempt, time.Duration, bool) {
	now := l.now()
	a := loginAttempt{l: l}
	var wait time.Duration
	var ok bool
	if a.addr, wait, ok = l.byAddr.reserve(addressKey(addr), now); !ok {
		return loginAttempt{}, wait, false
	}
	if email != "" {
		// Hashed: fixed-size keys whatever the client sends, and no
		// e-mail address kept in memory.
		sum := sha256.Sum256([]byte(email))
		if a.email, wait, ok = l.byEmail.reserve(string(sum[:]), now); !ok {
			l.byAddr.settle(a.addr, now, false)
			return loginAttempt{}, wait, false
		}
	}
	return a, 0, true
}

// end records the attempt's outcome; only a failure uses up allowance.
func (a loginAttempt) end(failed bool) {
	now := a.l.now()
	a.l.byAddr.settle(a.addr, now, failed)
	if a.email != nil {
		a.l.byEmail.settle(a.email, now, failed)
	}
}

// addressKey is addr, or its /64 network for an IPv6 address.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Is4In6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// failureTable holds a token bucket (rate.Limiter) per key that has
// failed recently or has a login under way, least recently used first.
type failureTable struct {
	limit rate.Limit
	burst int
	max   int

	mu      sync.Mutex
	entries map[string]*failures
	order   list.List // of *failures, least recently used at the front
}

// failures is the state of one key.
type failures struct {
	key     string
	lim     *rate.Limiter // one token per failure allowed
	pending int           // attempts under way, each of which may fail
	elem    *list.Element // nil once evicted
}

func newFailureTable(what string, fl FailureLimit, maxKeys int) (*failureTable, error) {
	if fl.Burst < 1 || fl.Every <= 0 {
		return nil, fmt.Errorf("login limiter: per-%s limit %+v, want a positive burst and interval", what, fl)
	}
	return &failureTable{limit: rate.Every(fl.Every), burst: fl.Burst, max: maxKeys, entries: map[string]*failures{}}, nil
}

// reserve takes one unit of key's allowance for an attempt under way, or
// answers how long until one is free (assuming those under way fail).
func (t *failureTable) reserve(key string, now time.Time) (*failures, time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	f, ok := t.entries[key]
	if ok {
		t.order.MoveToBack(f.elem)
	} else {
		if len(t.entries) >= t.max {
			t.remove(t.order.Front().Value.(*failures))
		}
		f = &failures{key: key, lim: rate.NewLimiter(t.limit, t.burst)}
		f.elem = t.order.PushBack(f)
		t.entries[key] = f
	}
	if free := f.lim.TokensAt(now) - float64(f.pending); free < 1 {
		return nil, time.Duration((1 - free) / float64(t.limit) * float64(time.Second)), false
	}
	f.pending++
	return f, 0, true
}

// settle ends an attempt reserved on f: a failure spends a token. An
// entry whose allowance is whole again is forgotten.
func (t *failureTable) settle(f *failures, now time.Time, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f.elem == nil {
		return // evicted while the attempt ran; its count is lost
	}
	f.pending--
	if failed {
		f.lim.AllowN(now, 1)
	}
	if t.idle(f, now) {
		t.remove(f)
	}
}

// sweep forgets the least recently used entries whose allowance is whole
// again, so the table holds only keys that failed within the time their
// allowance takes to refill (Burst × Every) or have a login under way.
func (t *failureTable) sweep(now time.Time) {
	for el := t.order.Front(); el != nil; el = t.order.Front() {
		f := el.Value.(*failures)
		if !t.idle(f, now) {
			return
		}
		t.remove(f)
	}
}

// idle reports whether f is as good as a fresh entry.
func (t *failureTable) idle(f *failures, now time.Time) bool {
	return f.pending == 0 && f.lim.TokensAt(now) >= float64(t.burst)
}

func (t *failureTable) remove(f *failures) {
	t.order.Remove(f.elem)
	delete(t.entries, f.key)
	f.elem = nil
}

// size is the number of keys held.
func (t *failureTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
