package server

import (
	"context"
	"log/slog"
	"time"

	"feedrt/handlers"
)

// imageSweeper runs the image sweep once at start and then every
// interval, on one goroutine that belongs to the Server and ends in
// Shutdown.
type imageSweeper struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startImageSweeper starts the loop. A sweep is cheap (one directory
// listing, one query of the image URLs) but its cost grows with the
// posts, hence an interval rather than a sweep per request.
func startImageSweeper(sweep handlers.ImageSweep, interval time.Duration, log *slog.Logger) *imageSweeper {
	if interval <= 0 || sweep.Age <= 0 || sweep.Now == nil || sweep.Store == nil {
		panic("server: the image sweep needs a positive interval and age, a clock and a store")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &imageSweeper{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			sweepOnce(ctx, sweep, log)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// sweepOnce runs one sweep and logs what it did.
func sweepOnce(ctx context.Context, sweep handlers.ImageSweep, log *slog.Logger) {
	res, err := sweep.Sweep(ctx)
	switch {
	case ctx.Err() != nil: // stopping
	case err != nil:
		log.Warn("image sweep failed", "removed", res.Removed, "err", err)
	case res.Skipped:
		log.Warn("image sweep skipped: the store lists no post image, so old files are left alone in case the database is the wrong one",
			"old_files", res.Candidates)
	default:
		log.Info("image sweep", "removed", res.Removed, "old_files", res.Candidates, "age", sweep.Age)
	}
}

// stop ends the loop, interrupting a sweep under way, and waits for it.
func (s *imageSweeper) stop() {
	s.cancel()
	<-s.done
}
