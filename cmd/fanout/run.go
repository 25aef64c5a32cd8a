package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Config is one load-generator run.
type Config struct {
	URL string // server base URL; loopback only
	// AlsoURLs are more members of the same cluster (loopback only): the
	// clients are spread round-robin over URL and these, while posts are
	// created through URL, so delivery crosses the cluster's bus.
	AlsoURLs           []string
	Path               string        // Socket.IO path
	Label              string        // name of the target in the report
	Clients            int           // Socket.IO clients to connect
	PollingShare       float64       // share of clients on HTTP long-polling
	Posts              int           // posts to create and measure
	Warmup             int           // posts created (and awaited) before the measured ones
	Interval           time.Duration // between the starts of two post requests
	ConnectRate        float64       // new clients per second; 0 = no limit
	ConnectConcurrency int           // handshakes in flight at once
	ConnectTimeout     time.Duration // one client's handshake
	Settle             time.Duration // pause after connecting, before RSS is read
	Drain              time.Duration // wait for deliveries after the last post
	Timeout            time.Duration // the whole run
	PID                int           // server process: >0 given, 0 find from the port, <0 none
	// AlsoPIDs are more server processes (a cluster's other members):
	// their RSS and CPU time are added to PID's, so the figures are the
	// whole cluster's.
	AlsoPIDs  []int
	VerifyAll bool // decode and check every event, not only each client's first
	// Content is the size of each post's content in bytes: prose-like
	// words (postContent), or 0 for one short sentence.
	Content int
	// WSCompression has the WebSocket clients offer permessage-deflate
	// (as socket.io-client in Node and browsers do) and fail if the
	// server does not accept it, so a run with compression on compares
	// servers that both compress.
	WSCompression bool
	Log           io.Writer // progress lines; nil = none
}

// DefaultConfig is the flags' defaults.
func DefaultConfig() Config {
	return Config{
		URL:                "http://127.0.0.1:8080",
		Path:               "/socket.io/",
		Label:              "server",
		Clients:            1000,
		PollingShare:       0.05,
		Posts:              20,
		Warmup:             1,
		Interval:           250 * time.Millisecond,
		ConnectConcurrency: 200,
		ConnectTimeout:     30 * time.Second,
		Settle:             2 * time.Second,
		Drain:              30 * time.Second,
		Timeout:            5 * time.Minute,
	}
}

func (c Config) validate() error {
	var errs []error
	if c.Clients < 1 || c.Clients > 1_000_000 {
		errs = append(errs, fmt.Errorf("-clients: want 1 to 1000000, got %d", c.Clients))
	}
	if c.PollingShare < 0 || c.PollingShare > 1 || math.IsNaN(c.PollingShare) {
		errs = append(errs, fmt.Errorf("-polling-share: want a fraction in [0, 1], got %v", c.PollingShare))
	}
	if c.Posts < 1 || c.Posts > 100_000 {
		errs = append(errs, fmt.Errorf("-posts: want 1 to 100000, got %d", c.Posts))
	}
	if c.Warmup < 0 || c.Warmup > 1000 {
		errs = append(errs, fmt.Errorf("-warmup: want 0 to 1000, got %d", c.Warmup))
	}
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("-interval: must not be negative"))
	}
	if c.ConnectRate < 0 {
		errs = append(errs, fmt.Errorf("-connect-rate: must not be negative"))
	}
	if c.ConnectConcurrency < 1 {
		errs = append(errs, fmt.Errorf("-connect-concurrency: want at least 1"))
	}
	if c.ConnectTimeout <= 0 || c.Drain <= 0 || c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-connect-timeout, -drain and -timeout must be positive"))
	}
	if c.Settle < 0 {
		errs = append(errs, fmt.Errorf("-settle: must not be negative"))
	}
	if c.Content < 0 || c.Content > 1<<20 {
		errs = append(errs, fmt.Errorf("-content: want 0 to 1048576 bytes, got %d", c.Content))
	}
	return errors.Join(errs...)
}

// Result is what a run measured. Durations are in milliseconds, memory in
// KiB; -1 means "not measured" (no server process to read).
type Result struct {
	Label        string `json:"label"`
	URL          string `json:"url"`
	PID          int    `json:"pid"`
	AlsoPIDs     []int  `json:"also_pids,omitempty"`
	Clients      int    `json:"clients"`
	WSClients    int    `json:"ws_clients"`
	PollClients  int    `json:"polling_clients"`
	Connected    int    `json:"connected"`
	ConnectFails int    `json:"connect_failures"`

	ConnectSeconds float64 `json:"connect_seconds"`
	ConnectRate    float64 `json:"connect_rate"` // clients/s
	HandshakeP50   float64 `json:"handshake_p50_ms"`
	HandshakeP99   float64 `json:"handshake_p99_ms"`

	Posts       int     `json:"posts"`
	PostsOK     int     `json:"posts_ok"`
	Warmup      int     `json:"warmup_posts"`
	WarmupOK    int     `json:"warmup_posts_ok"`
	PostHTTPP50 float64 `json:"post_http_p50_ms"`
	PostHTTPMax float64 `json:"post_http_max_ms"`

	TimeToAllP50 float64 `json:"time_to_all_p50_ms"`
	TimeToAllP99 float64 `json:"time_to_all_p99_ms"`
	TimeToAllMax float64 `json:"time_to_all_max_ms"`
	LatencyP50   float64 `json:"latency_p50_ms"`
	LatencyP99   float64 `json:"latency_p99_ms"`
	LatencyMax   float64 `json:"latency_max_ms"`
	LatencyWSP50 float64 `json:"latency_ws_p50_ms"`
	LatencyPLP50 float64 `json:"latency_polling_p50_ms"`
	// TimeToAll is each measured post's time to all clients, in order
	// (-1: it did not reach them all).
	TimeToAll []float64 `json:"time_to_all_ms"`

	Expected   int64 `json:"expected"` // deliveries of measured and warm-up posts
	Received   int64 `json:"received"`
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	BadEvents  int64 `json:"bad_events"`
	Foreign    int64 `json:"foreign_events"`
	Dropped    int   `json:"dropped_clients"`

	RSSBeforeKiB    int64   `json:"rss_before_kib"`
	RSSConnectedKiB int64   `json:"rss_connected_kib"`
	RSSAfterKiB     int64   `json:"rss_after_kib"`
	KiBPerConn      float64 `json:"kib_per_conn"`
	CPUConnectMS    float64 `json:"cpu_connect_ms"`
	CPUBroadcastMS  float64 `json:"cpu_broadcast_ms"`
	CPUPerPostMS    float64 `json:"cpu_per_post_ms"`
	// BytesPerPostKiB is what the server sent on the clients' connections
	// (Socket.IO: WebSocket frames, polling answers with their HTTP
	// headers) per measured post, as the clients read it.
	BytesPerPostKiB float64 `json:"bytes_per_post_kib"`
	GenCPUMS        float64 `json:"generator_cpu_broadcast_ms"`
	BroadcastSecs   float64 `json:"broadcast_seconds"`

	Errors []string `json:"errors,omitempty"` // grouped failure reasons, most frequent first
}

// OK is true when every client connected and every post reached every
// client, which is what the exit status reports.
func (r *Result) OK() bool {
	return r.Connected == r.Clients && r.Lost == 0 && r.PostsOK == r.Posts && r.WarmupOK == r.Warmup &&
		r.Dropped == 0 && r.BadEvents == 0
}

// runner holds one run's state.
type runner struct {
	cfg    Config
	target *url.URL
	also   []*url.URL // more cluster members for the clients
	api    *api
	trs    []*transports // per target: URL first, then also
	sink   *eventSink
	pid    int

	clients []*client
	wg      sync.WaitGroup // every client goroutine

	// Per post sequence number (warm-up posts first): when its request
	// was sent and whether it was created.
	sent []time.Duration
	ok   []bool
	okN  int // posts created so far

	// received counts the bytes the clients read off their connections.
	received atomic.Int64
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "fanout: "+format+"\n", args...)
	}
}

// Run performs one run: sign up and log in, connect the clients, create
// the posts, wait for the deliveries, measure, disconnect. An error means
// the run could not be carried out at all; a run that was carried out
// returns its Result, whose OK says whether it passed.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	target, err := checkTarget(ctx, cfg.URL)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, target: target}
	for _, u := range cfg.AlsoURLs {
		also, err := checkTarget(ctx, u)
		if err != nil {
			return nil, err
		}
		r.also = append(r.also, also)
	}
	r.setup()
	res := &Result{Label: cfg.Label, URL: target.String(), Clients: cfg.Clients, Posts: cfg.Posts, Warmup: cfg.Warmup,
		RSSBeforeKiB: -1, RSSConnectedKiB: -1, RSSAfterKiB: -1, KiBPerConn: -1,
		CPUConnectMS: -1, CPUBroadcastMS: -1, CPUPerPostMS: -1}

	r.pid = r.findPID()
	res.PID = r.pid
	res.AlsoPIDs = r.cfg.AlsoPIDs

	if err := r.api.signupLogin(ctx); err != nil {
		return nil, fmt.Errorf("sign up and log in: %w", err)
	}
	rssBefore := r.rss()
	cpuStart := r.cpu()

	r.connectAll(ctx, res)
	defer r.closeAll()
	if r.cfg.Settle > 0 && ctx.Err() == nil {
		sleepCtx(ctx, r.cfg.Settle)
	}
	rssConnected := r.rss()
	cpuConnected := r.cpu()
	r.logf("%s: %d/%d clients connected in %.2fs (%.0f clients/s)", cfg.Label, res.Connected, cfg.Clients, res.ConnectSeconds, res.ConnectRate)

	cpuPosting := cpuConnected
	if cfg.Warmup > 0 {
		start := time.Now()
		res.WarmupOK = r.postAndWait(ctx, res, 0, cfg.Warmup)
		r.logf("%s: %d warm-up posts in %.2fs", cfg.Label, res.WarmupOK, time.Since(start).Seconds())
		cpuPosting = r.cpu()
	}

	genCPU0 := selfCPU()
	bytes0 := r.received.Load()
	start := time.Now()
	res.PostsOK = r.postAndWait(ctx, res, cfg.Warmup, cfg.Warmup+cfg.Posts)
	res.BroadcastSecs = time.Since(start).Seconds()
	cpuEnd := r.cpu()
	genCPU1 := selfCPU()
	if res.PostsOK > 0 {
		res.BytesPerPostKiB = float64(r.received.Load()-bytes0) / float64(res.PostsOK) / 1024
	}
	rssAfter := r.rss()

	r.closeAll()
	r.tally(res)

	if r.pid > 0 {
		res.RSSBeforeKiB, res.RSSConnectedKiB, res.RSSAfterKiB = rssBefore, rssConnected, rssAfter
		if res.Connected > 0 && rssBefore >= 0 && rssConnected >= 0 {
			res.KiBPerConn = float64(rssConnected-rssBefore) / float64(res.Connected)
		}
		if cpuStart >= 0 && cpuConnected >= 0 {
			res.CPUConnectMS = ms(cpuConnected - cpuStart)
		}
		if cpuPosting >= 0 && cpuEnd >= 0 {
			res.CPUBroadcastMS = ms(cpuEnd - cpuPosting)
			if res.PostsOK > 0 {
				res.CPUPerPostMS = res.CPUBroadcastMS / float64(res.PostsOK)
			}
		}
	}
	res.GenCPUMS = ms(genCPU1 - genCPU0)
	return res, nil
}

// setup builds the HTTP clients, the WebSocket dialer and the event sink.
func (r *runner) setup() {
	base := r.target.String()
	r.api = &api{base: base, http: newHTTPClient(60*time.Second, 4)}

	sioPath := "/" + trimSlashes(r.cfg.Path) + "/"
	nPoll := pollingCount(r.cfg.Clients, r.cfg.PollingShare)
	wsDial := loopbackDialer(r.cfg.ConnectTimeout).DialContext
	dialer := &websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return r.counted(wsDial(ctx, network, addr))
		},
		Proxy:             nil,
		HandshakeTimeout:  r.cfg.ConnectTimeout,
		ReadBufferSize:    2048,
		WriteBufferSize:   256,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: r.cfg.WSCompression,
	}
	for _, target := range append([]*url.URL{r.target}, r.also...) {
		ws := *target
		if ws.Scheme == "https" {
			ws.Scheme = "wss"
		} else {
			ws.Scheme = "ws"
		}
		ws.Path = target.Path + sioPath
		ws.RawQuery = "EIO=4&transport=websocket"
		poll := *target
		poll.Path = target.Path + sioPath
		poll.RawQuery = "EIO=4&transport=polling"
		pc := newPollClient(target, 2*nPoll+16)
		pollDial := pc.Dial
		pc.Dial = func(addr string) (net.Conn, error) { return r.counted(pollDial(addr)) }
		r.trs = append(r.trs, &transports{wsURL: ws.String(), pollURL: poll.String(), dialer: dialer, poll: pc, deflate: r.cfg.WSCompression})
	}
	r.sent = make([]time.Duration, r.cfg.Warmup+r.cfg.Posts)
	r.ok = make([]bool, r.cfg.Warmup+r.cfg.Posts)
	r.sink = &eventSink{
		base:      time.Now(),
		marker:    []byte("fo" + randomHex(4) + "n"),
		posts:     r.cfg.Warmup + r.cfg.Posts,
		verifyAll: r.cfg.VerifyAll,
	}
}

// counted makes what is read off a client's connection count in
// r.received (both servers' bytes are counted the same way, by the
// clients that read them).
func (r *runner) counted(c net.Conn, err error) (net.Conn, error) {
	if err != nil {
		return nil, err
	}
	return countingConn{c, &r.received}, nil
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// tr is the transport set of the cluster member client c talks to.
func (r *runner) tr(c *client) *transports { return r.trs[c.id%len(r.trs)] }

func trimSlashes(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// pollingCount is how many of n clients use long-polling.
func pollingCount(n int, share float64) int {
	return int(math.Round(float64(n) * share))
}

// isPolling spreads the polling clients evenly over the connect order.
func isPolling(i, n int, share float64) bool {
	p := pollingCount(n, share)
	return p > 0 && (i+1)*p/n > i*p/n
}

// findPID resolves the server process to measure.
func (r *runner) findPID() int {
	switch {
	case r.cfg.PID > 0:
		return r.cfg.PID
	case r.cfg.PID < 0:
		return 0
	}
	port := r.target.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[r.target.Scheme]
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	pid, err := pidListening(p)
	if err != nil {
		r.logf("server memory and CPU not measured: %v (give -pid)", err)
		return 0
	}
	r.logf("measuring server process %d (listens on port %d)", pid, p)
	return pid
}

func (r *runner) rss() int64 { return measure(r, "RSS", rssKiB) }

func (r *runner) cpu() time.Duration { return measure(r, "CPU time", cpuTime) }

// measure reads a figure of the server process (summed with the
// AlsoPIDs' when there are some), or gives -1 (not measured) if there is
// no process or a read fails.
func measure[T int64 | time.Duration](r *runner, what string, read func(pid int) (T, error)) T {
	if r.pid <= 0 {
		return -1
	}
	var sum T
	for _, pid := range append([]int{r.pid}, r.cfg.AlsoPIDs...) {
		v, err := read(pid)
		if err != nil {
			r.logf("read %s of %d: %v", what, pid, err)
			return -1
		}
		sum += v
	}
	return sum
}

// connectAll connects the clients, at most ConnectConcurrency handshakes
// at once and, with ConnectRate, no faster than that, and returns when
// every handshake has succeeded or failed.
func (r *runner) connectAll(ctx context.Context, res *Result) {
	n := r.cfg.Clients
	r.clients = make([]*client, n)
	sem := make(chan struct{}, r.cfg.ConnectConcurrency)
	var handshakes sync.WaitGroup
	start := r.sink.since()
	for i := range n {
		c := &client{id: i, polling: isPolling(i, n, r.cfg.PollingShare), got: make([]time.Duration, r.sink.posts)}
		r.clients[i] = c
		if c.polling {
			res.PollClients++
		} else {
			res.WSClients++
		}
		if r.cfg.ConnectRate > 0 {
			due := start + time.Duration(float64(i)/r.cfg.ConnectRate*float64(time.Second))
			if wait := due - r.sink.since(); wait > 0 {
				sleepCtx(ctx, wait)
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			c.connErr = fmt.Errorf("not started: %w", ctx.Err())
			continue
		}
		handshakes.Add(1)
		r.wg.Add(1)
		go r.clientLife(ctx, c, sem, &handshakes)
	}
	handshakes.Wait()

	var last time.Duration
	var hs []time.Duration
	reasons := map[string]int{}
	for _, c := range r.clients {
		if c.connected == 0 {
			res.ConnectFails++
			reasons["connect: "+normalizeErr(c.connErr)]++
			continue
		}
		res.Connected++
		last = max(last, c.connected)
		hs = append(hs, c.connectDur)
	}
	if res.Connected > 0 {
		res.ConnectSeconds = (last - start).Seconds()
		if res.ConnectSeconds > 0 {
			res.ConnectRate = float64(res.Connected) / res.ConnectSeconds
		}
		sortDurations(hs)
		res.HandshakeP50, res.HandshakeP99 = ms(percentile(hs, 50)), ms(percentile(hs, 99))
	}
	res.Errors = append(res.Errors, topReasons(reasons)...)
}

// clientLife connects one client and then, if it connected, runs its
// receive loop until the runner closes it.
func (r *runner) clientLife(ctx context.Context, c *client, sem chan struct{}, handshakes *sync.WaitGroup) {
	defer r.wg.Done()
	cctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	hctx, hcancel := context.WithTimeout(cctx, r.cfg.ConnectTimeout)
	t0 := r.sink.since()
	var err error
	if c.polling {
		err = r.tr(c).connectPolling(hctx, r.sink, c)
	} else {
		err = r.tr(c).connectWS(hctx, r.sink, c)
	}
	hcancel()
	c.connectDur = r.sink.since() - t0
	if err != nil {
		c.connErr = err
		c.connected = 0
	}
	<-sem
	handshakes.Done()
	if err != nil {
		cancel()
		return
	}
	if c.polling {
		r.tr(c).pollLoop(cctx, r.sink, c)
	} else {
		r.tr(c).readWS(r.sink, c)
	}
}

// closeAll disconnects every client and waits for their goroutines.
// Safe to call twice.
func (r *runner) closeAll() {
	var closers sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range r.clients {
		if c == nil || c.closing.Swap(true) {
			continue
		}
		if c.ws != nil {
			c.ws.Close()
		}
		if c.polling && c.connected != 0 {
			closers.Add(1)
			sem <- struct{}{}
			go func() {
				defer closers.Done()
				r.tr(c).closePolling(c)
				<-sem
			}()
		}
	}
	closers.Wait()
	for _, c := range r.clients {
		if c != nil && c.cancel != nil {
			c.cancel()
		}
	}
	r.wg.Wait()
}

// postAndWait creates posts from..to-1, one request at a time, starting
// one every Interval (or at once when the previous took longer), then
// waits until every connected client has every post created so far, or
// Drain passes. It returns how many of these posts were created.
func (r *runner) postAndWait(ctx context.Context, res *Result, from, to int) int {
	created := 0
	var httpDur []time.Duration
	reasons := map[string]int{}
	start := r.sink.since()
	for i := from; i < to; i++ {
		if ctx.Err() != nil {
			reasons["post: "+normalizeErr(ctx.Err())]++
			break
		}
		if wait := start + time.Duration(i-from)*r.cfg.Interval - r.sink.since(); wait > 0 {
			sleepCtx(ctx, wait)
		}
		title := fmt.Sprintf("%s%d fan-out benchmark post", r.sink.marker, i)
		req, err := r.api.newPostRequest(ctx, title, postContent(i, r.cfg.Content))
		if err != nil {
			reasons["post: "+normalizeErr(err)]++
			continue
		}
		r.sent[i] = r.sink.since()
		resp, err := r.api.http.Do(req)
		if err == nil {
			err = finishPost(resp)
		}
		httpDur = append(httpDur, r.sink.since()-r.sent[i])
		if err != nil {
			reasons["post: "+normalizeErr(err)]++
			continue
		}
		r.ok[i] = true
		r.okN++
		created++
	}
	if from >= r.cfg.Warmup && len(httpDur) > 0 {
		sortDurations(httpDur)
		res.PostHTTPP50, res.PostHTTPMax = ms(percentile(httpDur, 50)), ms(httpDur[len(httpDur)-1])
	}

	res.Expected = int64(res.Connected) * int64(r.okN)
	deadline := time.NewTimer(r.cfg.Drain)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
wait:
	for r.sink.received.Load() < res.Expected {
		select {
		case <-tick.C:
		case <-deadline.C:
			reasons[fmt.Sprintf("deliveries still missing %v after the last post (-drain)", r.cfg.Drain)]++
			break wait
		case <-ctx.Done():
			reasons["deliveries still missing at -timeout"]++
			break wait
		}
	}
	res.Errors = append(res.Errors, topReasons(reasons)...)
	return created
}

// tally computes the delivery statistics once every client goroutine has
// ended. Latencies are over the measured posts; lost counts warm-up posts
// too.
func (r *runner) tally(res *Result) {
	total := len(r.sent)
	lastAt := make([]time.Duration, total) // latest receipt per post
	missing := make([]int, total)
	var all, ws, pl []time.Duration
	reasons := map[string]int{}
	for _, c := range r.clients {
		if c.connected == 0 {
			continue
		}
		if c.dropErr != nil {
			res.Dropped++
			reasons["dropped: "+normalizeErr(c.dropErr)]++
		}
		for seq := range total {
			if !r.ok[seq] {
				continue
			}
			at := c.got[seq]
			if at == 0 {
				missing[seq]++
				res.Lost++
				continue
			}
			res.Received++
			lastAt[seq] = max(lastAt[seq], at)
			if seq < r.cfg.Warmup {
				continue
			}
			d := at - r.sent[seq]
			all = append(all, d)
			if c.polling {
				pl = append(pl, d)
			} else {
				ws = append(ws, d)
			}
		}
	}
	res.Duplicates = r.sink.duplicates.Load()
	res.Foreign = r.sink.foreign.Load()
	res.BadEvents = r.sink.bad.Load()
	if res.BadEvents > 0 {
		reasons["bad event: "+r.sink.badSample]++
	}
	// Time to all: per post, until the last client got it. Posts that
	// did not reach everyone are left out of the percentiles (they count
	// as lost).
	var toAll []time.Duration
	res.TimeToAll = []float64{}
	for seq := r.cfg.Warmup; seq < total; seq++ {
		if !r.ok[seq] {
			continue
		}
		if missing[seq] > 0 || lastAt[seq] == 0 {
			res.TimeToAll = append(res.TimeToAll, -1)
			continue
		}
		d := lastAt[seq] - r.sent[seq]
		toAll = append(toAll, d)
		res.TimeToAll = append(res.TimeToAll, ms(d))
	}
	sortDurations(toAll)
	sortDurations(all)
	sortDurations(ws)
	sortDurations(pl)
	res.TimeToAllP50, res.TimeToAllP99 = ms(percentile(toAll, 50)), ms(percentile(toAll, 99))
	if len(toAll) > 0 {
		res.TimeToAllMax = ms(toAll[len(toAll)-1])
	}
	res.LatencyP50, res.LatencyP99 = ms(percentile(all, 50)), ms(percentile(all, 99))
	if len(all) > 0 {
		res.LatencyMax = ms(all[len(all)-1])
	}
	res.LatencyWSP50, res.LatencyPLP50 = ms(percentile(ws, 50)), ms(percentile(pl, 50))
	res.Errors = append(res.Errors, topReasons(reasons)...)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

// percentile is the nearest-rank percentile of sorted d (0 when empty).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*100) / 100 }

// endpointRE matches the addresses in network errors, whose ephemeral
// ports would otherwise make every error message unique.
var endpointRE = regexp.MustCompile(`(\[[0-9a-fA-F:]+\]|[0-9]+(\.[0-9]+){3}):[0-9]+(->)?`)

func normalizeErr(err error) string {
	if err == nil {
		return "unknown"
	}
	return endpointRE.ReplaceAllString(err.Error(), "")
}

// topReasons lists grouped reasons, most frequent first, at most 8.
func topReasons(m map[string]int) []string {
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range m {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n || (l[i].n == l[j].n && l[i].k < l[j].k) })
	var out []string
	for i, e := range l {
		if i == 8 {
			out = append(out, fmt.Sprintf("... and %d more kinds", len(l)-8))
			break
		}
		out = append(out, fmt.Sprintf("%dx %s", e.n, e.k))
	}
	return out
}
