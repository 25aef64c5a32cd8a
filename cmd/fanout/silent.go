package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"feedrt/server/metrics/metricstest"
)

// The silent mode measures what clients that stop reading cost a server:
// N WebSocket clients connect to "/" and never read again while one user
// creates M posts of the largest content back to back; the server's
// peak RSS is sampled throughout; then the clients are dropped (closed
// by this side if the server has not dropped them) and, after a wait,
// the server's RSS and (with -metrics-url) its heap in use are read.
//
//	go run ./cmd/fanout silent -url http://127.0.0.1:8080 -clients 100 -posts 700 \
//	    -content 19990 -metrics-url http://127.0.0.1:9464/metrics -after 30s

// SilentConfig is one silent run.
type SilentConfig struct {
	URL        string
	Path       string
	Clients    int
	Posts      int
	Content    int           // characters of each post's content
	MetricsURL string        // the server's Prometheus endpoint; "" = no heap figure
	After      time.Duration // wait after the clients are dropped
	PID        int           // 0: the process listening on the URL's port
}

// SilentResult is what a silent run measured (memory in MiB).
type SilentResult struct {
	Clients        int     `json:"clients"`
	Posts          int     `json:"posts"`
	PostSeconds    float64 `json:"post_seconds"`
	RSSBefore      float64 `json:"rss_before_mib"`
	RSSPeak        float64 `json:"rss_peak_mib"`
	RSSAfter       float64 `json:"rss_after_mib"`
	HeapInUseAfter float64 `json:"heap_inuse_after_mib"` // -1: not read
	Dropped        float64 `json:"dropped_by_server"`    // -1: not read
}

// silentCLI runs the silent mode from its flags.
func silentCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := SilentConfig{URL: "http://127.0.0.1:8080", Path: "/socket.io/", Clients: 100, Posts: 700, Content: 19_990, After: 30 * time.Second}
	fs := flag.NewFlagSet("fanout silent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "server base URL (loopback)")
	fs.StringVar(&cfg.Path, "path", cfg.Path, "Socket.IO path on the server")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "WebSocket clients that never read")
	fs.IntVar(&cfg.Posts, "posts", cfg.Posts, "posts created while they are connected")
	fs.IntVar(&cfg.Content, "content", cfg.Content, "characters of each post's content (ASCII)")
	fs.StringVar(&cfg.MetricsURL, "metrics-url", "", "the server's /metrics, for its heap in use after the drop")
	fs.DurationVar(&cfg.After, "after", cfg.After, "wait after the clients are dropped before the last reading")
	fs.IntVar(&cfg.PID, "pid", 0, "server process; 0 = the one listening on the URL's port")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res, err := RunSilent(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "fanout silent:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d silent clients, %d posts of %d characters in %.1fs: RSS %.1f MiB before, %.1f peak, %.1f %v after the drop; heap in use then %.1f MiB; %.0f dropped by the server as slow\n",
		res.Clients, res.Posts, cfg.Content, res.PostSeconds, res.RSSBefore, res.RSSPeak, res.RSSAfter, cfg.After, res.HeapInUseAfter, res.Dropped)
	return 0
}

// RunSilent carries out one silent run.
func RunSilent(ctx context.Context, cfg SilentConfig, log io.Writer) (*SilentResult, error) {
	target, err := checkTarget(ctx, cfg.URL)
	if err != nil {
		return nil, err
	}
	pid := cfg.PID
	if pid == 0 {
		port, _ := strconv.Atoi(target.Port())
		if pid, err = pidListening(port); err != nil {
			return nil, fmt.Errorf("find the server process: %w", err)
		}
	}
	rss := func() float64 {
		kib, err := rssKiB(pid)
		if err != nil {
			return -1
		}
		return float64(kib) / 1024
	}
	a := &api{base: strings.TrimSuffix(target.String(), "/"), http: &http.Client{Timeout: 30 * time.Second}}
	if err := a.signupLogin(ctx); err != nil {
		return nil, err
	}
	res := &SilentResult{Clients: cfg.Clients, Posts: cfg.Posts, RSSBefore: rss(), HeapInUseAfter: -1, Dropped: -1}
	conns := make([]*websocket.Conn, 0, cfg.Clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range cfg.Clients {
		c, err := silentClient(ctx, target, cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("connect a client: %w", err)
		}
		conns = append(conns, c)
	}
	fmt.Fprintf(log, "fanout silent: %d clients connected and silent\n", len(conns))

	var peak float64
	var mu sync.Mutex
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > 0 {
				mu.Lock()
				peak = max(peak, r)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	content := strings.Repeat("x", cfg.Content)
	start := time.Now()
	for i := range cfg.Posts {
		req, err := a.newPostRequest(ctx, fmt.Sprintf("Silent %d", i), content)
		if err == nil {
			var resp *http.Response
			if resp, err = a.http.Do(req); err == nil {
				err = finishPost(resp)
			}
		}
		if err != nil {
			close(stop)
			return nil, fmt.Errorf("post %d: %w", i, err)
		}
	}
	res.PostSeconds = time.Since(start).Seconds()
	for _, c := range conns { // those the server has not dropped yet
		c.Close()
	}
	conns = nil
	fmt.Fprintf(log, "fanout silent: %d posts in %.1fs; clients dropped, waiting %v\n", cfg.Posts, res.PostSeconds, cfg.After)
	select {
	case <-time.After(cfg.After):
	case <-ctx.Done():
	}
	close(stop)
	<-sampled
	res.RSSPeak, res.RSSAfter = peak, rss()
	if cfg.MetricsURL != "" {
		heap, err := scrapeSum(ctx, cfg.MetricsURL, "go_memstats_heap_inuse_bytes")
		if err != nil {
			return nil, err
		}
		res.HeapInUseAfter = heap / (1 << 20)
		if res.Dropped, err = scrapeSum(ctx, cfg.MetricsURL, "feedrt_socket_slow_consumers_dropped_total"); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// silentClient opens a WebSocket session connected to "/" and reads no
// more of it.
func silentClient(ctx context.Context, target *url.URL, path string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := url.URL{Scheme: "ws", Host: target.Host, Path: path, RawQuery: "EIO=4&transport=websocket"}
	c, _, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
	}
	if _, msg, err := c.ReadMessage(); err != nil || len(msg) == 0 || msg[0] != eioOpen {
		c.Close()
		return nil, fmt.Errorf("open packet: %q %v", msg, err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte{eioMessage, sioConnect}); err != nil {
		c.Close()
		return nil, err
	}
	if _, msg, err := c.ReadMessage(); err != nil || len(msg) < 2 || msg[0] != eioMessage || msg[1] != sioConnect {
		c.Close()
		return nil, fmt.Errorf("connect to /: %q %v", msg, err)
	}
	return c, nil
}

// scrapeSum reads a Prometheus text endpoint and adds up the samples of
// name (all its series).
func scrapeSum(ctx context.Context, metricsURL, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", metricsURL, err)
	}
	f, ok := fams[name]
	if !ok {
		return 0, fmt.Errorf("%s: no %s", metricsURL, name)
	}
	return metricstest.Sum(f), nil
}
