package redisstreams

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxFieldBytes bounds one field of a stream entry: anything larger is
// not a message of a Socket.IO server and is skipped unread.
const maxFieldBytes = 32 << 20

// read is the process's one stream reader: XREAD BLOCK from the last
// entry handled, for every namespace, until ctx ends. After a failure it
// waits (doubling, up to retryMax) and reads on from the same entry, so
// an outage neither repeats nor skips what is still in the stream.
func (c *Cluster) read(ctx context.Context) {
	defer close(c.done)
	wait := time.Duration(0)
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err := c.readOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = min(max(2*wait, retryMin), retryMax)
			c.Log.Warn("xread", "Redis stream unreadable: serving local sockets only until it is back", "stream", c.opts.StreamName, "err", err, "retry_in", wait)
			continue
		}
		wait = 0
		c.Log.Recovered("xread", "Redis stream readable again", "stream", c.opts.StreamName, "from", c.lastID)
	}
}

// readOnce reads and handles one batch of entries.
func (c *Cluster) readOnce(ctx context.Context) error {
	if c.lastID == "" {
		id, err := c.tail(ctx)
		if err != nil {
			return err
		}
		c.lastID = id
		c.reading.Store(true)
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.BlockTime+c.opts.CommandTimeout)
	defer cancel()
	res, err := c.reader.XRead(rctx, &redis.XReadArgs{
		Streams: []string{c.opts.StreamName, c.lastID},
		Count:   c.opts.ReadCount,
		Block:   c.opts.BlockTime,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil // nothing new within BlockTime
	}
	if err != nil {
		return err
	}
	for _, s := range res {
		for _, m := range s.Messages {
			c.opts.Observer.Received()
			c.handle(m)
			c.lastID = m.ID
		}
	}
	return nil
}

// tail is the id of the stream's last entry ("0-0" if it is empty): where
// a server that just started reads from, as Node's "$" but without
// missing what is added between the start and the first XREAD.
func (c *Cluster) tail(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.CommandTimeout)
	defer cancel()
	last, err := c.reader.XRevRangeN(ctx, c.opts.StreamName, "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(last) == 0 {
		return "0-0", nil
	}
	return last[0].ID, nil
}

// handle routes one entry to its namespace's adapter. Entries are hostile
// input: a malformed one is logged (rate-limited) and skipped.
func (c *Cluster) handle(m redis.XMessage) {
	nsp, _ := m.Values["nsp"].(string)
	if nsp == "" {
		return // not a Socket.IO message (Node skips those too)
	}
	a := c.adapter(nsp)
	if a == nil {
		return
	}
	if seq := a.entrySeq(m.Values); seq != 0 && !a.own.readBack(seq) {
		return // this server's own broadcast, delivered by the fallback
	}
	msg, err := decodeEntry(m.Values)
	if err != nil {
		c.Log.Warn("decode", "malformed stream entry skipped", "id", m.ID, "err", err)
		return
	}
	a.onMessage(msg, m.ID)
}
