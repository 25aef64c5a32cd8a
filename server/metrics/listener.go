package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// scrapeWriteTimeout bounds the answer to one scrape, which includes the
// Redis ping of feedrt_redis_up (upPingTimeout).
const scrapeWriteTimeout = 30 * time.Second

// Listener serves the metrics at GET /metrics on a listener of their own,
// never on the public port, so they are not published to the clients and
// a scraper reaches them whatever CORS or a proxy in front does. Listen
// binds it, Serve serves it, Close stops it; a nil *Listener (metrics
// off) does nothing.
type Listener struct {
	ln      net.Listener
	srv     *http.Server
	log     *slog.Logger
	done    chan struct{} // closed when Serve's goroutine has returned
	started bool          // Serve was called
}

// ListenOptions are the HTTP settings the owner of a Listener chooses.
type ListenOptions struct {
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	Log               *slog.Logger // the listener's start and errors
}

// Listen binds addr for serving m; nil, nil when m is nil (metrics off).
func (m *Metrics) Listen(addr string, o ListenOptions) (*Listener, error) {
	if m == nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return &Listener{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: o.ReadHeaderTimeout,
			WriteTimeout:      scrapeWriteTimeout,
			IdleTimeout:       o.IdleTimeout,
			ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
		},
		log:  o.Log,
		done: make(chan struct{}),
	}, nil
}

// Serve starts serving on a goroutine of its own.
func (l *Listener) Serve() {
	if l == nil {
		return
	}
	l.started = true
	l.log.Info("serving metrics", "addr", l.ln.Addr().String(), "path", "/metrics")
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("metrics listener", "err", err)
		}
	}()
}

// Close stops the listener and waits for the scrapes in flight until ctx
// ends, then cuts them off. A listener never served is just closed.
func (l *Listener) Close(ctx context.Context) error {
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

// Addr is the bound address ("" when metrics are off).
func (l *Listener) Addr() string {
	if l == nil {
		return ""
	}
	return l.ln.Addr().String()
}
