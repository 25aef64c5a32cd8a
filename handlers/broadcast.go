package handlers

// Broadcaster pushes an event to every connected real-time client. The
// server implements it with Socket.IO; handlers only need this much.
// Broadcast must return as soon as the event is queued: delivery to many
// thousands of sockets must never hold up an HTTP answer.
type Broadcaster interface {
	Broadcast(event string, payload any)
}
