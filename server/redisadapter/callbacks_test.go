package redisadapter

import (
	"runtime"
	"strings"
	"testing"

	"feedrt/store/storetest"
)

// stacks is every goroutine's stack.
func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// TestCloseWaitsForCallbacks: an application callback the adapter
// started (here serverSideEmit's acknowledgement, which a lone server
// answers at once) has an owner: the adapter's Close waits for it to end
// before it returns.
func TestCloseWaitsForCallbacks(t *testing.T) {
	io, _ := mustServer(t, redisURL(t), testOptions(prefix(t)), false)
	entered, release := make(chan struct{}), make(chan struct{})
	_ = io.ServerSideEmitWithAck("ask")(func([]any, error) {
		close(entered)
		<-release
	})
	<-entered
	a := io.Of("/", nil).Adapter().(*Adapter)
	closed := make(chan struct{})
	go func() {
		a.Close()
		close(closed)
	}()
	storetest.WaitFor(t, "Close to wait for the callback", func() bool {
		return strings.Contains(stacks(), "redisbase.(*Callbacks).Close")
	})
	select {
	case <-closed:
		t.Fatal("Close returned while the callback ran")
	default:
	}
	close(release)
	<-closed
	if s := stacks(); strings.Contains(s, "TestCloseWaitsForCallbacks.func1(") { // the callback
		t.Errorf("the callback's goroutine outlived Close:\n%s", s)
	}
}
