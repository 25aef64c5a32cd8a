package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// This tool generates load, so it refuses to aim at anything but this
// machine: the URL's host must resolve to loopback addresses only, and
// every connection it opens is checked again at dial time (so a redirect,
// a DNS change or a proxy setting cannot send traffic elsewhere).

// checkTarget parses raw and checks that its host is loopback (an address
// literal, or a name all of whose addresses are). It returns the URL
// without query, fragment or trailing slashes.
func checkTarget(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url: want http:// or https://, got %q", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("-url: no host in %q", raw)
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("-url: %s is not a loopback address (127.0.0.0/8 or ::1); refusing to generate load against it", host)
		}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
		if err != nil {
			return nil, fmt.Errorf("-url: resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("-url: %s resolves to nothing", host)
		}
		for _, a := range addrs {
			if !a.IP.IsLoopback() {
				return nil, fmt.Errorf("-url: %s resolves to %s, which is not loopback; refusing to generate load against it", host, a.IP)
			}
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

var errNotLoopback = errors.New("refusing to connect to a non-loopback address")

// loopbackDialer is a net.Dialer whose connections can only reach
// loopback addresses: the check runs on the resolved address just before
// connect(2).
func loopbackDialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%w: %s", errNotLoopback, address)
			}
			return nil
		},
	}
}

// newHTTPClient is an HTTP client that uses no proxy, dials loopback only,
// follows no redirects, and keeps up to idle idle connections.
func newHTTPClient(timeout time.Duration, idle int) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           loopbackDialer(10 * time.Second).DialContext,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// newPollClient is the long-polling clients' HTTP client for target:
// up to conns connections, dialled loopback only, no proxy, no redirect
// followed, no request repeated behind the client's back. It is
// fasthttp's: net/http's client spends more CPU per request (goroutine
// hand-offs, allocations) than the server it measures spends answering
// it, on the cores they share.
func newPollClient(target *url.URL, conns int) *fasthttp.HostClient {
	port := target.Port()
	if port == "" {
		port = "80"
		if target.Scheme == "https" {
			port = "443"
		}
	}
	d := loopbackDialer(10 * time.Second)
	return &fasthttp.HostClient{
		Addr:                      net.JoinHostPort(target.Hostname(), port),
		IsTLS:                     target.Scheme == "https",
		Dial:                      func(addr string) (net.Conn, error) { return d.Dial("tcp", addr) },
		MaxConns:                  conns,
		MaxIdleConnDuration:       90 * time.Second,
		MaxIdemponentCallAttempts: 1,
		MaxResponseBodySize:       4 << 20,
	}
}
