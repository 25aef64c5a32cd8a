package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// printHuman writes one run's result as a two-column table.
func printHuman(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	num := func(v float64, unit string) string {
		if v < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f %s", v, unit)
	}
	kib := func(v int64) string {
		if v < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%d KiB (%.1f MiB)", v, float64(v)/1024)
	}
	status := "PASS"
	if !r.OK() {
		status = "FAIL"
	}
	rows := [][2]string{
		{"target", fmt.Sprintf("%s %s (pid %d)", r.Label, r.URL, r.PID)},
		{"result", status},
		{"clients connected", fmt.Sprintf("%d / %d (%d websocket, %d polling), %d failed", r.Connected, r.Clients, r.WSClients, r.PollClients, r.ConnectFails)},
		{"connect rate", fmt.Sprintf("%.0f clients/s over %.2f s (handshake p50 %.2f ms, p99 %.2f ms)", r.ConnectRate, r.ConnectSeconds, r.HandshakeP50, r.HandshakeP99)},
		{"posts created", fmt.Sprintf("%d / %d after %d / %d warm-up (HTTP p50 %.2f ms, max %.2f ms)", r.PostsOK, r.Posts, r.WarmupOK, r.Warmup, r.PostHTTPP50, r.PostHTTPMax)},
		{"time to all clients", fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.2f ms", r.TimeToAllP50, r.TimeToAllP99, r.TimeToAllMax)},
		{"  per post (ms)", postList(r.TimeToAll)},
		{"per-client latency", fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.2f ms (p50 websocket %.2f ms, polling %.2f ms)", r.LatencyP50, r.LatencyP99, r.LatencyMax, r.LatencyWSP50, r.LatencyPLP50)},
		{"deliveries", fmt.Sprintf("%d / %d received, %d lost, %d duplicate, %d malformed, %d dropped clients", r.Received, r.Expected, r.Lost, r.Duplicates, r.BadEvents, r.Dropped)},
		{"server RSS before", kib(r.RSSBeforeKiB)},
		{"server RSS connected", kib(r.RSSConnectedKiB)},
		{"server RSS after posts", kib(r.RSSAfterKiB)},
		{"per connection", num(r.KiBPerConn, "KiB")},
		{"server CPU connecting", num(r.CPUConnectMS, "ms")},
		{"server CPU broadcasting", num(r.CPUBroadcastMS, "ms") + fmt.Sprintf(" over %.2f s", r.BroadcastSecs)},
		{"server CPU per post", num(r.CPUPerPostMS, "ms")},
		{"bytes sent per post", num(r.BytesPerPostKiB, "KiB") + " (read by the clients, HTTP headers included)"},
		{"generator CPU broadcasting", num(r.GenCPUMS, "ms")},
	}
	for _, e := range r.Errors {
		rows = append(rows, [2]string{"problem", e})
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	_ = tw.Flush()
}

// postList shows per-post times, "lost" for a post not everyone got.
func postList(v []float64) string {
	const most = 30
	var b strings.Builder
	for i, x := range v {
		if i == most {
			fmt.Fprintf(&b, " ... (%d more)", len(v)-most)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		if x < 0 {
			b.WriteString("lost")
		} else {
			fmt.Fprintf(&b, "%.0f", x)
		}
	}
	return b.String()
}

// readResults reads JSON lines written by -json-out.
func readResults(path string) ([]Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// printCompare writes one table comparing label a with label b at each
// client count found, with the ratio a/b. When a label has several runs
// at one count, the last one wins.
func printCompare(w io.Writer, results []Result, a, b string) {
	byKey := map[string]Result{}
	var counts []int
	for _, r := range results {
		byKey[fmt.Sprintf("%s/%d", r.Label, r.Clients)] = r
		if !slices.Contains(counts, r.Clients) {
			counts = append(counts, r.Clients)
		}
	}
	slices.Sort(counts)
	metrics := []struct {
		name    string
		get     func(Result) float64
		integer bool
	}{
		{"connect rate (clients/s)", func(r Result) float64 { return r.ConnectRate }, false},
		{"time to all p50 (ms)", func(r Result) float64 { return r.TimeToAllP50 }, false},
		{"time to all p99 (ms)", func(r Result) float64 { return r.TimeToAllP99 }, false},
		{"per-client p50 (ms)", func(r Result) float64 { return r.LatencyP50 }, false},
		{"per-client p99 (ms)", func(r Result) float64 { return r.LatencyP99 }, false},
		{"KiB per connection", func(r Result) float64 { return r.KiBPerConn }, false},
		{"server CPU per post (ms)", func(r Result) float64 { return r.CPUPerPostMS }, false},
		{"bytes sent per post (KiB)", func(r Result) float64 { return r.BytesPerPostKiB }, false},
		{"server RSS after posts (MiB)", func(r Result) float64 {
			if r.RSSAfterKiB < 0 {
				return -1
			}
			return float64(r.RSSAfterKiB) / 1024
		}, false},
		{"lost messages", func(r Result) float64 { return float64(r.Lost) }, true},
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "clients\t  %-30s\t%s\t%s\t%s/%s\t\n", "metric", a, b, a, b)
	for _, n := range counts {
		ra, okA := byKey[fmt.Sprintf("%s/%d", a, n)]
		rb, okB := byKey[fmt.Sprintf("%s/%d", b, n)]
		for _, m := range metrics {
			va, vb := "-", "-"
			var fa, fb float64 = -1, -1
			if okA {
				fa = m.get(ra)
				va = fmtVal(fa, m.integer)
			}
			if okB {
				fb = m.get(rb)
				vb = fmtVal(fb, m.integer)
			}
			ratio := "-"
			if okA && okB && fa >= 0 && fb > 0 {
				ratio = fmt.Sprintf("%.2f", fa/fb)
			}
			fmt.Fprintf(tw, "%d\t  %-30s\t%s\t%s\t%s\t\n", n, m.name, va, vb, ratio)
		}
		status := func(r Result, ok bool) string {
			switch {
			case !ok:
				return "-"
			case r.OK():
				return "PASS"
			}
			return "FAIL"
		}
		fmt.Fprintf(tw, "%d\t  %-30s\t%s\t%s\t%s\t\n", n, "run", status(ra, okA), status(rb, okB), "")
	}
	_ = tw.Flush()
}

func fmtVal(v float64, integer bool) string {
	switch {
	case v < 0:
		return "n/a"
	case integer || v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
