//go:build unix

package engineio

import (
	"syscall"

	"github.com/lesismal/nbio"
)

// closeOnExec marks the connection's descriptor close-on-exec (nbio's
// Hash is the descriptor on these systems).
func closeOnExec(c *nbio.Conn) { syscall.CloseOnExec(c.Hash()) }
