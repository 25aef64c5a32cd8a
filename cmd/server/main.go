// Command server runs the feed back end: REST API and Socket.IO on one port.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"feedrt/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx is cancelled (a signal), then
// shuts down gracefully. It is main without the process around it, so
// tests can start and stop the real thing.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: configure with environment variables (see README)", args)
	}
	start := time.Now()
	cfg, err := server.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: cfg.Ops.LogLevel}))
	log.Info("starting", "config", cfg)
	if cfg.GeneratedSecret {
		log.Warn("JWT_SECRET is not set: using a random secret, tokens will not survive a restart")
	}

	if gc := cfg.Ops.GCPercent(); gc > 0 {
		debug.SetGCPercent(gc)
	}
	if cfg.Ops.PprofAddr != "" {
		pp := startPprof(cfg.Ops.PprofAddr, log)
		defer func() { _ = pp.Close() }() // its goroutine ends with run
	}
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "startup", time.Since(start))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.HTTP.ShutdownTime)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTime)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// startPprof serves net/http/pprof on its own listener, for profiling the
// fan-out (see cmd/fanout). Off unless PPROF_ADDR is set (Config.Ops.PprofAddr); meant for a
// loopback address such as 127.0.0.1:6060, never the public port.
func startPprof(addr string, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof listener", "addr", addr, "err", err)
		}
	}()
	log.Warn("pprof enabled", "addr", addr)
	return srv
}
