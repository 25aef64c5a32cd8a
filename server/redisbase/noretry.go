package redisbase

import (
	"context"
	"errors"
	"net"

	"github.com/redis/go-redis/v9"
)

// MayHaveRun reports whether a command that failed with err may have been
// run by Redis all the same: unless no connection was had (nothing was
// sent) or Redis answered with an error (it refused the command, or
// redirected it: MOVED, ASK).
func MayHaveRun(err error) bool {
	var refused redis.Error
	var op *net.OpError
	switch {
	case errors.As(err, &refused),
		errors.As(err, &op) && op.Op == "dial",
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrClosed):
		return false
	}
	return true
}

// noRetryCmd is a command that go-redis does not send again once it may
// have run. go-redis sends a whole pipeline again (the client's
// MaxRetries, or a ClusterClient's MaxRedirects) when its connection
// drops, also after Redis ran it, unless one of its commands says
// NoRetry: a PUBLISH would then reach every subscriber twice, an XADD *
// add a second entry. It is sent again only if it has had no answer and
// no connection (go-redis sets the error of a command it could not send
// only once it gives up), or Redis refused it (LOADING, READONLY:
// nothing done). go-redis's ClusterClient follows MOVED and ASK without
// asking NoRetry.
type noRetryCmd struct {
	redis.Cmder
	answered func() bool // whether Redis has answered it (without error)
}

// NoRetry is asked by go-redis when a pipeline holding the command has
// failed.
func (c noRetryCmd) NoRetry() bool {
	if err := c.Err(); err != nil {
		return MayHaveRun(err)
	}
	return c.answered() // run, while another command failed
}

// PublishCmd is a PUBLISH (or, sharded, SPUBLISH) of payload on channel
// that go-redis does not send again once it may have run.
func PublishCmd(ctx context.Context, sharded bool, channel string, payload []byte) redis.Cmder {
	name := "publish"
	if sharded {
		name = "spublish"
	}
	cmd := redis.NewIntCmd(ctx, name, channel, payload)
	cmd.SetVal(-1) // an answer is a number of receivers, 0 or more
	return noRetryCmd{cmd, func() bool { return cmd.Val() >= 0 }}
}

// StringCmdOnce is a command answering a string (XADD: the entry's id)
// that go-redis does not send again once it may have run; args are the
// command's.
func StringCmdOnce(ctx context.Context, args ...any) redis.Cmder {
	cmd := redis.NewStringCmd(ctx, args...)
	return noRetryCmd{cmd, func() bool { return cmd.Val() != "" }}
}
