package realtime

import (
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// TestBroadcasterBounded: with the queue full, Broadcast waits for room
// instead of growing the queue, and every event is still emitted once, in
// order.
func TestBroadcasterBounded(t *testing.T) {
	inEmit := make(chan struct{}, 10)
	release := make(chan struct{})
	var got []any
	b := NewBroadcaster(func(_ string, payload any) {
		inEmit <- struct{}{}
		<-release
		got = append(got, payload)
	}, slog.New(slog.NewTextHandler(io.Discard, nil)), 2)

	b.Broadcast("news", 0)
	<-inEmit // 0 is being emitted; the queue is empty
	b.Broadcast("news", 1)
	b.Broadcast("news", 2) // the queue is full
	returned := make(chan struct{})
	go func() {
		b.Broadcast("news", 3)
		close(returned)
	}()
	// What is tested is that something does not happen, so this waits a
	// while for it.
	select {
	case <-returned:
		t.Fatal("Broadcast returned with the queue full")
	case <-time.After(200 * time.Millisecond):
	}
	if n := len(b.queue); n != 2 {
		t.Errorf("%d events queued, want 2", n)
	}
	close(release)
	<-returned
	b.Close()
	if want := []any{0, 1, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
}
