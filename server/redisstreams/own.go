package redisstreams

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"feedrt/server/redisbase"
)

// A server's own broadcasts reach its sockets when its reader reads them
// back from the stream, or at once when the XADD fails. Some failures
// leave the entry in the stream all the same: the answer was lost after
// Redis ran the command (a timeout under load, a connection dropped after
// the write), or the entry went in before the reader found where to
// start (the stream's last entry, read at start). Delivered by the
// fallback and read back, such a broadcast would reach every local socket
// twice. So each broadcast entry carries a number of its adapter's own
// (seqField), and the adapter remembers (ownEntries):
//
//   - the numbers of its last entries read back, so that a failure
//     reported after the entry was read back delivers nothing more. An
//     XADD's failure is reported when its pipeline returns, before the
//     next one is sent, so fewer than redisbase.MaxBatch of the adapter's
//     entries can be read back between one's reading and its failure: the
//     last readRing numbers are enough;
//   - the numbers of the broadcasts it delivered by the fallback that may
//     be in the stream, so that the reader skips them when it reads them.
//     An entry that shows up late (a command held up in the network, run
//     after its connection was given up) is skipped until fallbackMemory
//     has passed, and at most maxFallbacks are remembered: beyond those
//     bounds it would be delivered a second time rather than the memory
//     grow without end. Failures that cannot have added the entry (no
//     connection, an error answer from Redis, a full queue) remember
//     nothing, so an outage with Redis down costs no memory, unless it
//     began before the reader found where to start.
//
// And go-redis must not send a pipeline again once its XADD may have run
// (redisbase.StringCmdOnce), which would add the entry twice for every
// server.

const (
	// readRing is how many numbers of entries read back are remembered.
	readRing = 2 * redisbase.MaxBatch
	// fallbackMemory is how long a broadcast delivered by the fallback is
	// remembered (it is forgotten at a later fallback), unless
	// maxFallbacks later ones push it out sooner.
	fallbackMemory = time.Minute
	// maxFallbacks bounds the broadcasts remembered: with Redis holding
	// commands without answering, one pipeline fails per CommandTimeout,
	// so 256 per second at the default of 1 s: 15 360 per minute.
	maxFallbacks = 1 << 16
)

// ownEntries is what an adapter remembers of its own broadcast entries.
type ownEntries struct {
	now func() time.Time

	mu        sync.Mutex
	read      [readRing]uint64 // numbers of the last entries read back (0: none)
	next      int              // where the next one goes in read
	fellBack  map[uint64]struct{}
	fellOrder []fallback // fellBack's numbers, oldest first (some read back since)
}

// fallback is a broadcast delivered by the fallback, and when.
type fallback struct {
	seq uint64
	at  time.Time
}

// readBack reports whether the entry of the broadcast numbered seq, just
// read from the stream, is to be delivered: not if the fallback has
// delivered it.
func (o *ownEntries) readBack(seq uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.fellBack[seq]; ok {
		delete(o.fellBack, seq)
		return false
	}
	o.read[o.next] = seq
	o.next = (o.next + 1) % readRing
	return true
}

// fallBack reports whether the broadcast numbered seq, whose entry may be
// in the stream, is to be delivered by the fallback: not if it has been
// read back already. If so, it is remembered, for readBack.
func (o *ownEntries) fallBack(seq uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.read {
		if s == seq {
			return false
		}
	}
	now := o.now()
	for len(o.fellOrder) > 0 && (len(o.fellOrder) >= maxFallbacks || now.Sub(o.fellOrder[0].at) > fallbackMemory) {
		delete(o.fellBack, o.fellOrder[0].seq)
		o.fellOrder = o.fellOrder[1:]
	}
	if o.fellBack == nil {
		o.fellBack = map[uint64]struct{}{}
	}
	o.fellBack[seq] = struct{}{}
	o.fellOrder = append(o.fellOrder, fallback{seq, now})
	return true
}

// remembered is how many fallbacks are remembered (for tests).
func (o *ownEntries) remembered() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.fellBack)
}

// entrySeq is the number of one of this adapter's broadcasts that an
// entry read from the stream holds, or 0 if it holds none.
func (a *Adapter) entrySeq(values map[string]any) uint64 {
	if uid, _ := values["uid"].(string); uid != a.UID() {
		return 0
	}
	s, _ := values[seqField].(string)
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return seq
}

// xadd is the command appending an entry to the stream: args are
// xaddHead's followed by the entry's fields.
func (a *Adapter) xadd(args []any) redisbase.Command {
	return redisbase.Command{Add: func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder {
		cmd := redisbase.StringCmdOnce(ctx, args...) // added twice if sent again
		_ = pipe.Process(ctx, cmd)
		return cmd
	}}
}

// xaddHead is the start of an XADD's arguments (XADD stream MAXLEN ~ n *),
// in a slice with room for an entry's fields.
func (c *Cluster) xaddHead() []any {
	args := make([]any, 0, 16)
	return append(args, "xadd", c.opts.StreamName, "maxlen", "~", c.maxLen, "*")
}
