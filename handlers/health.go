package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Pinger reports whether a dependency (the store) is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health serves the liveness and readiness probes.
type Health struct {
	// Store is what readiness depends on: the store, plus Redis when the
	// server is clustered (the log names which one failed).
	Store Pinger
	Log   *slog.Logger
}

// Register mounts GET /healthz and GET /readyz.
func (h Health) Register(r gin.IRouter) {
	r.GET("/healthz", h.live)
	r.GET("/readyz", h.ready)
}

// live answers 200 while the process serves HTTP at all.
func (h Health) live(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// ready answers 200 only if the dependencies answer within a short
// deadline, so a load balancer stops sending traffic to an instance whose
// database (or cluster bus) is gone.
func (h Health) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := h.Store.Ping(ctx); err != nil {
		h.Log.Warn("not ready", "err", err)
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, errorBody{Message: "Not ready: a dependency is unavailable.", Data: []FieldError{}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
