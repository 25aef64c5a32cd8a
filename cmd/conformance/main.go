// Command conformance serves what the Socket.IO and Engine.IO projects'
// own protocol test suites expect of a server under test, built from the
// same real-time engine (server/realtime) and CORS policy (server/cors)
// as the feed server, so anyone can run those suites against this
// implementation:
//
//	go run ./cmd/conformance                 # Socket.IO v5 suite, /socket.io/
//	go run ./cmd/conformance -mode engineio  # Engine.IO v4 suite, /engine.io/
//
// Both listen on port 3000 with pingInterval 300 ms, pingTimeout 200 ms,
// connectTimeout 1000 ms, maxPayload 1 000 000 and CORS "*". Connection
// state recovery is off: the suites expect a CONNECT reply of exactly
// {"sid"}; Engine.IO v3 is off: they expect a request without EIO=4 to fail.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	mode := fs.String("mode", "socketio", "socketio (Socket.IO v5 suite) or engineio (Engine.IO v4 suite)")
	addr := fs.String("addr", ":3000", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))

	o, err := suiteOptions()
	if err != nil {
		return err
	}
	su, err := handler(*mode, o)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: su.Handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	srv.RegisterOnShutdown(su.Close)
	su.KeepAlive(srv)
	log.Info("conformance server listening", "mode", *mode, "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
