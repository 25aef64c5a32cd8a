package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// readyTimeout is how long readiness waits for its dependencies.
const readyTimeout = 2 * time.Second

// Pinger reports whether a dependency (the store) is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health serves the liveness and readiness probes.
type Health struct {
	// Store is what readiness depends on (required): the store, plus
	// Redis when the server is clustered (the error names which one
	// failed).
	Store Pinger
	// Log receives why the server is not ready (nil: discarded).
	Log *slog.Logger
}

// Register mounts GET /healthz and GET /readyz.
func (h Health) Register(r gin.IRouter) {
	if h.Store == nil {
		panic("handlers: Health.Store is nil")
	}
	r.GET("/healthz", h.live)
	r.GET("/readyz", h.ready)
}

// live answers 200 while the process serves HTTP at all.
func (h Health) live(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// ready answers 200 only if the dependencies answer within readyTimeout,
// so a load balancer stops sending traffic to an instance whose database
// (or cluster bus) is gone.
func (h Health) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if err := h.Store.Ping(ctx); err != nil {
		h.fail(c, &Error{Status: http.StatusServiceUnavailable, Message: "Not ready: a dependency is unavailable.", Err: err})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// fail answers err through Respond, the one error-to-status mapping.
func (h Health) fail(c *gin.Context, err error) { Respond(c, h.Log, err) }
