// Package handlers holds the Gin handlers of the REST API. It knows the
// store interface and a small Broadcaster interface, but no Socket.IO
// library and no database driver.
//
// Each resource has one file and one type, a struct of its dependencies
// with a Register(gin.IRouter) method: Auth (auth.go), Posts (posts.go,
// with its form in posts_form.go), Images (images.go) and Health
// (health.go). Every setting comes from the server's configuration, which
// owns the defaults; a missing one is a wiring bug that Register (or a
// New constructor) refuses at start rather than replacing it with a
// value of its own.
//
// A handler answers every error through Respond (each type's fail method
// is the one way in), the one place that maps errors to HTTP status and
// to the contract's {message, data} body.
package handlers
