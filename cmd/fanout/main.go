// Command fanout measures how fast a feed back end fans a `posts` event
// out to many Socket.IO clients. It connects N lightweight Socket.IO
// clients (its own Engine.IO v4 / Socket.IO v5 client, WebSocket and
// long-polling) to a server on this machine, creates M posts over the REST
// API, and times each event from just before the create request until
// each client received it. It reports connect rate, time until the last
// client had each post, per-client latency, lost messages, and the server
// process's memory and CPU (from /proc).
//
// It only ever targets loopback addresses. It exits 0 when every client
// connected and got every post, 1 when not, 2 on bad usage.
//
//	go run ./cmd/fanout -url http://127.0.0.1:8080 -clients 1000 -posts 20
//	go run ./cmd/fanout -compare results.jsonl -labels go,node
//	go run ./cmd/fanout silent -url http://127.0.0.1:8080 -clients 100 -posts 700 (see silent.go)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cli is main without the process: parse flags, run, report; it returns
// the exit status.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "silent" {
		return silentCLI(ctx, args[1:], stdout, stderr)
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "server base URL; its host must be loopback (127.0.0.0/8 or ::1)")
	fs.Func("also-url", "another member of the same cluster (loopback; repeatable): clients are spread over -url and these, posts go to -url", func(v string) error {
		cfg.AlsoURLs = append(cfg.AlsoURLs, v)
		return nil
	})
	fs.StringVar(&cfg.Path, "path", cfg.Path, "Socket.IO path on the server")
	fs.StringVar(&cfg.Label, "label", cfg.Label, "name of the target in the report (e.g. go, node)")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "Socket.IO clients to connect")
	fs.Float64Var(&cfg.PollingShare, "polling-share", cfg.PollingShare, "fraction of clients on HTTP long-polling; the rest use WebSocket")
	fs.BoolVar(&cfg.WSCompression, "ws-compression", cfg.WSCompression, "WebSocket clients offer permessage-deflate and require it")
	fs.IntVar(&cfg.Posts, "posts", cfg.Posts, "posts to create and measure (each one is an event to every client)")
	fs.IntVar(&cfg.Warmup, "warmup", cfg.Warmup, "posts to create and wait for before the measured ones (not in the latency figures or the CPU time)")
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "time between the starts of two create-post requests (they are sent one at a time)")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", cfg.ConnectRate, "limit on new clients per second; 0 = as fast as -connect-concurrency allows")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", cfg.ConnectConcurrency, "handshakes in flight at once")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", cfg.ConnectTimeout, "limit on one client's handshake")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "pause after connecting before the server's RSS is read and posting starts")
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "how long to wait for deliveries after the last post")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "limit on the whole run")
	fs.IntVar(&cfg.PID, "pid", cfg.PID, "server process to measure (RSS, CPU); 0 = the one listening on the URL's port, -1 = none")
	fs.Func("also-pid", "another server process of the cluster (repeatable): its RSS and CPU time are added to -pid's", func(v string) error {
		pid, err := strconv.Atoi(v)
		if err != nil || pid <= 0 {
			return fmt.Errorf("want a process id, got %q", v)
		}
		cfg.AlsoPIDs = append(cfg.AlsoPIDs, pid)
		return nil
	})
	fs.IntVar(&cfg.Content, "content", cfg.Content, "bytes of each post's content: prose-like words; 0 = one short sentence")
	fs.BoolVar(&cfg.VerifyAll, "verify-all", cfg.VerifyAll, "decode and check every event against the contract, not only each client's first (costs generator CPU)")
	jsonOut := fs.String("json-out", "", "also append the one-line JSON summary to this file")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	compare := fs.String("compare", "", "instead of running: print a comparison table of the JSON lines in this file")
	labels := fs.String("labels", "go,node", "with -compare: the two labels to compare, A,B (ratio A/B)")
	cpuProfile := fs.String("cpuprofile", "", "write the generator's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fanout: unexpected arguments %q\n", fs.Args())
		return 2
	}

	if *compare != "" {
		a, b, ok := strings.Cut(*labels, ",")
		if !ok || a == "" || b == "" {
			fmt.Fprintln(stderr, "fanout: -labels: want A,B")
			return 2
		}
		results, err := readResults(*compare)
		if err != nil {
			fmt.Fprintln(stderr, "fanout:", err)
			return 2
		}
		printCompare(stdout, results, a, b)
		return 0
	}

	if !*quiet {
		cfg.Log = stderr
	}
	if limit, err := raiseNoFile(); err != nil {
		fmt.Fprintf(stderr, "fanout: raise the open-file limit: %v (now %d)\n", err, limit)
	} else if uint64(cfg.Clients)+64 > limit {
		fmt.Fprintf(stderr, "fanout: warning: %d clients but only %d file descriptors\n", cfg.Clients, limit)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "fanout: -cpuprofile:", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "fanout:", err)
		return 2
	}
	printHuman(stdout, res)
	line, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintln(stderr, "fanout:", err)
		return 2
	}
	fmt.Fprintln(stdout, string(line))
	if *jsonOut != "" {
		f, err := os.OpenFile(*jsonOut, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = fmt.Fprintln(f, string(line))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "fanout: -json-out:", err)
			return 2
		}
	}
	if !res.OK() {
		return 1
	}
	return 0
}
