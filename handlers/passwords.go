package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// Passwords hashes and checks passwords with bcrypt, a few at a time.
//
// bcrypt is built to be slow (about 250 ms of one core at cost 12), so a
// flood of logins or sign-ups would otherwise take every core and starve
// /healthz, the feed and Socket.IO. Past the cap, calls queue until a slot
// frees or the request's context ends.
type Passwords struct {
	cost    int
	slots   chan struct{} // one token per bcrypt call under way
	waiting atomic.Int64  // calls queued for a slot

	// dummy is the hash of a random password at the configured cost:
	// a login for an unknown e-mail compares against it, so it costs the
	// same time as a wrong password and timing does not tell which
	// e-mails have an account.
	dummy []byte

	// hash and compare are bcrypt's; fields so tests can watch the cap.
	hash    func(password []byte, cost int) ([]byte, error)
	compare func(hash, password []byte) error
}

// NewPasswords makes new hashes at cost and runs at most concurrency bcrypt
// calls at once. It computes the dummy hash for unknown e-mails, so it
// takes one bcrypt hashing time.
func NewPasswords(cost, concurrency int) (*Passwords, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d outside [%d, %d]", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if concurrency < 1 {
		return nil, fmt.Errorf("bcrypt concurrency %d, want at least 1", concurrency)
	}
	p := &Passwords{
		cost:    cost,
		slots:   make(chan struct{}, concurrency),
		hash:    bcrypt.GenerateFromPassword,
		compare: bcrypt.CompareHashAndPassword,
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	p.dummy = dummy
	return p, nil
}

// Hash returns the bcrypt hash of password at the configured cost.
// Passwords over 72 bytes are an error (signup refuses them first).
func (p *Passwords) Hash(ctx context.Context, password string) ([]byte, error) {
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	defer p.release()
	return p.hash([]byte(password), p.cost)
}

// Compare reports whether password matches hash: nil, or
// bcrypt.ErrMismatchedHashAndPassword, or another error for a hash that
// is not bcrypt. Like bcryptjs, it reads the first 72 bytes only.
func (p *Passwords) Compare(ctx context.Context, hash, password string) error {
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	return p.compare([]byte(hash), bcryptInput(password))
}

// CompareUnknown spends on password the work Compare would, against the
// dummy hash, for a login whose e-mail has no account. It returns nil
// or the context's error; the answer is "not found" either way.
func (p *Passwords) CompareUnknown(ctx context.Context, password string) error {
	err := p.Compare(ctx, string(p.dummy), password)
	if err != nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return err
	}
	return nil
}

// acquire takes a slot, waiting while all are taken. A request whose
// context ends while it waits (the client left, or the server's write
// timeout passed) gets a 503 and no slot.
func (p *Passwords) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &Error{Status: http.StatusServiceUnavailable, Message: "Service unavailable, try again later.",
			Err: fmt.Errorf("wait for a bcrypt slot: %w", ctx.Err())}
	}
}

// release frees the slot taken by acquire.
func (p *Passwords) release() { <-p.slots }

// bcryptInput cuts a login password to the 72 bytes bcrypt uses. Signup
// refuses longer passwords now, but the Node app (bcryptjs) accepted them
// and hashed only their first 72 bytes, so its users still log in with
// the whole password they chose.
func bcryptInput(password string) []byte {
	b := []byte(password)
	return b[:min(len(b), maxPasswordBytes)]
}
