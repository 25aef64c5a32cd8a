package redisbase

// Observer is told what a Cluster does with Redis, for metrics. It is
// called on the adapter's hot paths (per message or per batch), from
// several goroutines, so its methods must be cheap, safe for concurrent
// use, and must not block.
type Observer interface {
	// Published: n messages were published to Redis.
	Published(n int)
	// PublishFailed: n messages were given up because Redis failed or
	// did not answer within CommandTimeout.
	PublishFailed(n int)
	// PublishQueueFull: one message was dropped because the publish
	// queue was full.
	PublishQueueFull()
	// Received: one message was read from the subscriptions (this
	// server's own broadcasts and requests, which Redis echoes, included).
	Received()
	// RequestDone: a request that waits for the other servers' answers
	// (fetchSockets, allRooms, sockets, serverSideEmit with an
	// acknowledgement) has ended, with answered of the expected other
	// servers' answers; timedOut if RequestsTimeout came first.
	RequestDone(answered, expected int, timedOut bool)
}

// NopObserver is the Observer of a Cluster given none: it ignores all.
type NopObserver struct{}

func (NopObserver) Published(int)              {}
func (NopObserver) PublishFailed(int)          {}
func (NopObserver) PublishQueueFull()          {}
func (NopObserver) Received()                  {}
func (NopObserver) RequestDone(int, int, bool) {}
