package metrics

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestListener: a Listener serves GET /metrics on its address until
// Close; one never served is just closed; a nil one (metrics off) does
// nothing.
func TestListener(t *testing.T) {
	opts := ListenOptions{ReadHeaderTimeout: time.Second, IdleTimeout: time.Second, Log: slog.New(slog.DiscardHandler)}
	l, err := New().Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	l.Serve()
	url := "http://" + l.Addr() + "/metrics"
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(body) == 0 {
		t.Errorf("GET /metrics: %s, %d bytes", res.Status, len(body))
	}
	http.DefaultClient.CloseIdleConnections()
	if err := l.Close(context.Background()); err != nil {
		t.Errorf("close: %v", err)
	}
	if res, err := http.Get(url); err == nil {
		res.Body.Close()
		t.Errorf("still served after Close: %s", res.Status)
	}

	unserved, err := New().Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	addr := unserved.Addr()
	if err := unserved.Close(context.Background()); err != nil {
		t.Errorf("close of a listener never served: %v", err)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("%s still bound after Close", addr)
	}

	var off *Metrics
	if l, err := off.Listen("127.0.0.1:0", opts); l != nil || err != nil || l.Addr() != "" || l.Close(context.Background()) != nil {
		t.Errorf("Listen with metrics off: %v, %v", l, err)
	}
	(*Listener)(nil).Serve()
}
