package server

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"feedrt/server/servertest"
)

// nodeServer is testdata/noderedis/server.js: socket.io 4.8.4 on
// @socket.io/redis-adapter 8.3.0 (or @socket.io/redis-streams-adapter
// 0.3.1), driven over stdin/stdout.
type nodeServer struct {
	*servertest.NodeClient // events: connection, serverSideEmit
	tb                     testing.TB
	url                    string
	results                chan map[string]json.RawMessage
	ids                    int
}

// call sends a command and returns the value of its result.
func (s *nodeServer) call(cmd map[string]any) json.RawMessage {
	s.tb.Helper()
	s.ids++
	cmd["id"] = s.ids
	s.Send(cmd)
	timeout := time.After(15 * time.Second)
	for {
		select {
		case raw, ok := <-s.results:
			if !ok {
				s.tb.Fatalf("node server exited during %v", cmd)
			}
			var id int
			_ = json.Unmarshal(raw["id"], &id)
			if id != s.ids {
				continue
			}
			if raw["ev"] != nil && string(raw["ev"]) == `"error"` {
				s.tb.Fatalf("node server: %v: %s", cmd, raw["message"])
			}
			return raw["value"]
		case <-timeout:
			s.tb.Fatalf("node server did not answer %v", cmd)
		}
	}
}

// nodeRedisDir is the Node cluster harness.
const nodeRedisDir = "../testdata/noderedis"

var (
	nodeRedisOnce       sync.Once
	nodeRedisInstallErr error
)

// mustInstallNodeRedis installs the Node harness's packages, once per
// test binary, if they are missing (.ci/run installs them first).
func mustInstallNodeRedis(t *testing.T) {
	t.Helper()
	nodeRedisOnce.Do(func() {
		_, errStreams := os.Stat(filepath.Join(nodeRedisDir, "node_modules", "@socket.io", "redis-streams-adapter"))
		_, errMsgpack := os.Stat(filepath.Join(nodeRedisDir, "node_modules", "socket.io-msgpack-parser"))
		if errStreams == nil && errMsgpack == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = nodeRedisDir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		nodeRedisInstallErr = cmd.Run()
	})
	if nodeRedisInstallErr != nil {
		t.Fatalf("npm ci in %s: %v", nodeRedisDir, nodeRedisInstallErr)
	}
}

// mustNodeServer starts a Node Socket.IO server on the Redis at
// redisURL with the key prefix, and kills it at cleanup.
func mustNodeServer(t *testing.T, redisURL, prefix string) *nodeServer {
	t.Helper()
	return mustNodeServerEnv(t, redisURL, prefix)
}

// mustNodeServerEnv is mustNodeServer with more environment (KEY=value,
// last wins): REDIS_ADAPTER=streams and its options, for one.
func mustNodeServerEnv(t *testing.T, redisURL, prefix string, extra ...string) *nodeServer {
	t.Helper()
	mustInstallNodeRedis(t)
	msgs := make(chan servertest.NodeMsg, 1024)
	lines := make(chan map[string]json.RawMessage, 1024)
	env := append([]string{"REDIS_URL=" + redisURL, "KEY=" + prefix, "PORT=0", "HOST=127.0.0.1", "REDIS_ADAPTER="}, extra...)
	stdin := servertest.StartNode(t, nodeRedisDir, env, func(sc *bufio.Scanner, stop <-chan struct{}) {
		defer close(msgs)
		defer close(lines)
		for sc.Scan() {
			var raw map[string]json.RawMessage
			var m servertest.NodeMsg
			if json.Unmarshal(sc.Bytes(), &raw) != nil || json.Unmarshal(sc.Bytes(), &m) != nil {
				t.Errorf("node server printed %q", sc.Text())
				continue
			}
			sent := false
			if m.Ev == "listening" || m.Ev == "result" || m.Ev == "error" {
				sent = servertest.SendOrStop(lines, raw, stop)
			} else {
				sent = servertest.SendOrStop(msgs, m, stop)
			}
			if !sent {
				return
			}
		}
	}, "server.js")
	s := &nodeServer{NodeClient: servertest.NewNodeClient(t, stdin, msgs), tb: t}
	s.results = lines
	select {
	case raw, ok := <-lines:
		var port int
		if !ok || json.Unmarshal(raw["port"], &port) != nil {
			t.Fatalf("node server did not start: %s", raw)
		}
		s.url = "http://127.0.0.1:" + strconv.Itoa(port)
	case <-time.After(20 * time.Second):
		t.Fatal("node server did not start")
	}
	return s
}
