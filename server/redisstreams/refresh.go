package redisstreams

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"feedrt/server/redisbase"
)

// refreshSessions rewrites the sessions of the connected sockets at every
// tick of Options.SessionRefresh until ctx ends: one goroutine per
// process, whatever the number of sockets.
func (c *Cluster) refreshSessions(ctx context.Context) {
	ticks, stop := c.opts.Ticker(c.opts.SessionRefresh)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			c.refresh(ctx)
		}
	}
}

// refreshResult is what one refresh pass did.
type refreshResult struct {
	written, dropped, pipelines int
}

// refresh is one pass: SET (PX the recovery window) of every kept session
// of every namespace, refreshChunk per command through the publisher,
// each chunk sent before the next is queued. A chunk Redis did not take
// ends the pass, its sessions and the rest counted as dropped: the next
// pass writes everything again.
func (c *Cluster) refresh(ctx context.Context) refreshResult {
	c.mu.Lock()
	adapters := make([]*Adapter, 0, len(c.adapters))
	for _, a := range c.adapters {
		adapters = append(adapters, a)
	}
	c.mu.Unlock()
	var sessions []*liveSession
	for _, a := range adapters {
		sessions = append(sessions, a.liveSessions()...)
	}
	var r refreshResult
	for len(sessions) > 0 {
		chunk := sessions[:min(refreshChunk, len(sessions))]
		sessions = sessions[len(chunk):]
		written, failed, ok := c.refreshChunk(ctx, chunk)
		r.written += written
		r.dropped += failed
		r.pipelines++
		if !ok {
			c.dropSessions(len(sessions))
			r.dropped += len(sessions)
			return r
		}
	}
	return r
}

// refreshChunk writes chunk in one command and waits until it is sent:
// how many sessions were written and failed, and whether Redis took them
// (false also when ctx ended first).
func (c *Cluster) refreshChunk(ctx context.Context, chunk []*liveSession) (written, failed int, ok bool) {
	type result struct{ written, failed int }
	done := make(chan result, 1)
	var cmds []redis.Cmder
	queued := c.Pub.Do(redisbase.Command{
		Add: func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder {
			cmds = make([]redis.Cmder, 0, len(chunk))
			for _, s := range chunk {
				if cmd := c.setLive(ctx, pipe, s); cmd != nil {
					cmds = append(cmds, cmd)
				}
			}
			if len(cmds) == 0 {
				return skipped(ctx)
			}
			return cmds[len(cmds)-1]
		},
		Done: func(redis.Cmder) {
			var r result
			for _, cmd := range cmds {
				if cmd.Err() != nil {
					r.failed++
				}
			}
			r.written = len(cmds) - r.failed
			// The publisher counted the command it was handed, the last
			// SET; count the others the same way.
			if n := len(cmds); n > 1 {
				lastFailed := 0
				if cmds[n-1].Err() != nil {
					lastFailed = 1
				}
				c.opts.Observer.Published(r.written - (1 - lastFailed))
				c.dropSessions(r.failed - lastFailed)
			}
			done <- r
		},
	})
	if !queued {
		c.dropSessions(len(chunk) - 1) // the publisher counted one
		return 0, len(chunk), false
	}
	select {
	case r := <-done:
		return r.written, r.failed, r.failed == 0
	case <-ctx.Done():
		return 0, 0, false
	}
}

// dropSessions counts n session writes given up on (the publisher counts
// one per command, and a refresh chunk is one command of many writes).
func (c *Cluster) dropSessions(n int) {
	if n <= 0 {
		return
	}
	c.sessionDrops.Add(uint64(n))
	c.opts.Observer.PublishFailed(n)
}

// realTicker is Options.Ticker's default.
func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}
