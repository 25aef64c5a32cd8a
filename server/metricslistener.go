package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"feedrt/server/metrics"
)

// metricsListener serves the server's Prometheus metrics at /metrics on
// a listener of its own (METRICS_ADDR), never on the public port, so the
// metrics are not published to the clients and a scraper reaches them
// whatever CORS or a proxy in front does. It lives and dies with the
// Server: bound in New, served once New has succeeded, closed last in
// Shutdown (scrapes during the graceful stop still get an answer).
type metricsListener struct {
	ln      net.Listener
	srv     *http.Server
	done    chan struct{} // closed when Serve has returned
	started bool          // serve was called (by New, before it returned)
}

// listenMetrics binds addr for m; nil, nil when metrics are off (m nil).
func listenMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (*metricsListener, error) {
	if m == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return &metricsListener{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: readHeaderTimeout,
			WriteTimeout:      30 * time.Second, // a scrape includes a Redis ping bounded to 2 s
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}, nil
}

// serve starts serving on its own goroutine.
func (l *metricsListener) serve(log *slog.Logger) {
	if l == nil {
		return
	}
	l.started = true
	log.Info("serving metrics", "addr", l.ln.Addr().String(), "path", "/metrics")
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
}

// close stops the listener and waits for the scrapes in flight until
// ctx ends, then cuts them off. A listener never served (New failed after
// binding it) is just closed.
func (l *metricsListener) close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if !l.started {
		return l.ln.Close()
	}
	err := l.srv.Shutdown(ctx)
	if err != nil {
		_ = l.srv.Close()
	}
	<-l.done
	return err
}

// addr is the bound address ("" when metrics are off).
func (l *metricsListener) addr() string {
	if l == nil {
		return ""
	}
	return l.ln.Addr().String()
}
