//go:build !unix

package engineio

import "github.com/lesismal/nbio"

// closeOnExec does nothing where nbio keeps the standard library's
// connection (no descriptor of its own to mark).
func closeOnExec(*nbio.Conn) {}
