package redisbase_test

import (
	"cmp"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisadapter"
	"feedrt/server/redisbase"
	"feedrt/server/redissharded"
	"feedrt/server/redisstreams"
	"feedrt/store/storetest"
)

// cluster is what the three adapters' Open return.
type cluster interface {
	socket.AdapterConstructor
	Close() error
}

// TestAdaptersCloseWaitForCallbacks: each adapter's Close waits for the
// application callbacks it started (its redisbase.Callbacks, see
// TestCallbacks), here serverSideEmit's acknowledgement, which a lone
// server answers at once. On the machine's Redis (7, for the sharded
// adapter), or FEEDRT_TEST_REDIS_URL.
func TestAdaptersCloseWaitForCallbacks(t *testing.T) {
	addr := redisbase.Addr{URL: cmp.Or(os.Getenv("FEEDRT_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")}
	name := "feedrt-redisbase-test-" + redisbase.RandomID()
	common := redisbase.Common{RequestsTimeout: 3 * time.Second, CommandTimeout: time.Second, QueueSize: 64}
	for _, tc := range []struct {
		name string
		open func() (cluster, error)
	}{
		{"pubsub", func() (cluster, error) {
			return redisadapter.Open(addr, redisadapter.Options{Key: name, Common: common})
		}},
		{"streams", func() (cluster, error) {
			return redisstreams.Open(addr, redisstreams.Options{
				StreamName: name, MaxLen: 100, ReadCount: 100, BlockTime: time.Second, SessionKeyPrefix: name + ":session:",
				ChannelPrefix: name, SessionRefresh: time.Minute, Common: common,
			})
		}},
		{"sharded", func() (cluster, error) {
			return redissharded.Open(addr, redissharded.Options{ChannelPrefix: name, SubscriptionMode: redissharded.Static, Common: common})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.open()
			if err != nil {
				t.Fatal(err)
			}
			so := socket.DefaultServerOptions()
			so.SetAdapter(c)
			io := socket.NewServer(nil, so)
			t.Cleanup(func() {
				io.Close(nil)
				_ = c.Close()
			})
			entered, release := make(chan struct{}), make(chan struct{})
			var ended atomic.Bool
			_ = io.ServerSideEmitWithAck("ask")(func([]any, error) {
				close(entered)
				<-release
				ended.Store(true)
			})
			<-entered
			closed := make(chan struct{})
			go func() {
				io.Of("/", nil).Adapter().Close()
				close(closed)
			}()
			storetest.WaitFor(t, "Close to wait for the callback", func() bool {
				buf := make([]byte, 1<<20)
				return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "redisbase.(*Callbacks).Close")
			})
			select {
			case <-closed:
				t.Fatal("Close returned while the callback ran")
			default:
			}
			close(release)
			<-closed
			if !ended.Load() {
				t.Error("Close returned before the callback ended")
			}
		})
	}
}
