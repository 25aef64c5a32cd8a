package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// TestMaxConnections: under a flood of connections held open (idle on
// the engine's poller after a polling request, or silent on net/http),
// the server never holds more than MAX_CONNECTIONS: the rest are refused
// at once and counted; a client already connected is still served
// (/healthz answers), and once the flood is gone new connections are
// taken again.
func TestMaxConnections(t *testing.T) {
	const max = 30
	env := mustStart(t, func(c *Config) { withMetrics(c); c.HTTP.MaxConnections = max })
	addr := strings.TrimPrefix(env.url, "http://")
	health := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}} // one connection, kept
	healthz := func(c *http.Client) error {
		res, err := c.Get(env.url + "/healthz")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	if err := healthz(health); err != nil {
		t.Fatal(err)
	}

	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	refused := 0
	for i := range 3 * max {
		before := env.srv.openConns()
		conn, err := net.Dial("tcp", addr)
		if errors.Is(err, syscall.ECONNRESET) { // refused before the dial returned
			refused++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, conn)
		br := bufio.NewReader(conn)
		if i%2 == 0 { // a polling request: the connection moves to the poller and idles there
			fmt.Fprintf(conn, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				refused++
				continue
			}
			_, _ = io.Copy(io.Discard, res.Body)
			continue
		}
		// Silent: the server takes it (it counts one more) or refuses
		// it (a reset).
		storetest.WaitFor(t, "the connection taken or refused", func() bool {
			if env.srv.openConns() > before {
				return true
			}
			_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			_, err := br.Peek(1)
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				refused++
				return true
			}
			return false
		})
		if open := env.srv.openConns(); open > max {
			t.Fatalf("%d connections open, past the maximum of %d", open, max)
		}
	}
	if open := env.srv.openConns(); open != max {
		t.Errorf("%d connections open during the flood, want the maximum, %d", open, max)
	}
	if refused == 0 {
		t.Fatal("no connection refused")
	}
	waitMetric(t, env, float64(refused), "feedrt_connections_refused_total")
	if f := scrape(t, env); f.value("feedrt_connections_open") != max || f.value("feedrt_connections_max") != max {
		t.Errorf("metrics: %v open of %v, want %d of %d", f.value("feedrt_connections_open"), f.value("feedrt_connections_max"), max, max)
	}
	if err := healthz(health); err != nil {
		t.Errorf("/healthz on a connection made before the flood: %v", err)
	}

	for _, c := range flood {
		c.Close()
	}
	flood = nil
	storetest.WaitFor(t, "the flood's connections gone", func() bool { return env.srv.openConns() <= 1 })
	if err := healthz(&http.Client{}); err != nil {
		t.Errorf("/healthz on a new connection after the flood: %v", err)
	}
}

// TestLentConnectionCountedOnce: a polling client's connection, moved to
// the engine's poller and lent back to net/http for a REST request,
// counts once toward MAX_CONNECTIONS.
func TestLentConnectionCountedOnce(t *testing.T) {
	env := mustStart(t, nil)
	addr := strings.TrimPrefix(env.url, "http://")
	c := mustRawConn(t, env.url)
	exchange := func(req string) {
		t.Helper()
		if res, body := c.roundTrip(t, fmt.Sprintf(req, addr)); res.StatusCode != 200 {
			t.Fatalf("%q: %d %q", req, res.StatusCode, body)
		}
	}
	exchange("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: %s\r\n\r\n") // to the poller
	storetest.WaitFor(t, "one connection, on the poller", func() bool { return env.srv.openConns() == 1 })
	exchange("GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n") // lent to net/http
	if n := env.srv.openConns(); n != 1 {
		t.Errorf("%d connections counted, want the one", n)
	}
}
