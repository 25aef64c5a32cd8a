package main

import (
	"fmt"
	"io"
	"net/http"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server"
	"feedrt/server/engineio"
	"feedrt/server/realtime"
)

// suiteEnv is what the Socket.IO and Engine.IO projects' protocol test
// suites are written against, as an operator would configure the feed
// server for them: pingInterval 300 ms, pingTimeout 200 ms,
// connectTimeout 1000 ms, CORS "*"; recovery off (the suites expect a
// CONNECT reply of exactly {"sid"}) and Engine.IO v3 off (they expect a
// request without EIO=4 to fail). Everything else is the feed server's
// default, so the suites test the options it runs with.
var suiteEnv = map[string]string{
	"SOCKETIO_PING_INTERVAL":   "300",
	"SOCKETIO_PING_TIMEOUT":    "200",
	"SOCKETIO_CONNECT_TIMEOUT": "1000",
	"SOCKETIO_RECOVERY":        "false",
	"SOCKETIO_ALLOW_EIO3":      "false",
	"CORS_ORIGINS":             "*",
}

// suiteOptions are the real-time options of suiteEnv.
func suiteOptions() (realtime.Options, error) {
	cfg, err := server.LoadConfig(func(k string) string { return suiteEnv[k] })
	if err != nil {
		return realtime.Options{}, err
	}
	return server.RealtimeOptions(cfg, nil, nil), nil
}

// suite is what serves a protocol test suite: the handler, and what the
// http.Server serving it is given.
type suite struct {
	Handler http.Handler
	engine  *engineio.Server
	path    string
	Close   func() // ends every session
}

// KeepAlive moves polling connections of srv (which serves Handler) to
// the engine's poller, as the feed server does, so that the suites test
// that path.
func (s suite) KeepAlive(srv *http.Server) {
	s.engine.ServeKeepAlive(engineio.KeepAlive{Server: srv, Path: s.path})
}

// handler serves what a protocol test suite expects of the server under
// test. Mode "socketio": Socket.IO at /socket.io/ on "/" and "/custom",
// each socket emitting "auth" with its handshake auth payload, answering
// "message" with "message-back" and acknowledging "message-with-ack" with
// its arguments. Mode "engineio": bare Engine.IO at /engine.io/ echoing
// every message.
func handler(mode string, o realtime.Options) (suite, error) {
	mux := http.NewServeMux()
	switch mode {
	case "socketio":
		rt, err := realtime.New(o)
		if err != nil {
			return suite{}, err
		}
		sio := rt.IO
		onConnection := func(args ...any) {
			s := args[0].(*socket.Socket)
			s.Emit("auth", s.Handshake().Auth)
			s.On("message", func(a ...any) { s.Emit("message-back", a...) })
			s.On("message-with-ack", func(a ...any) {
				if len(a) == 0 {
					return
				}
				if ack, ok := a[len(a)-1].(socket.Ack); ok {
					ack(a[:len(a)-1], nil)
				}
			})
		}
		sio.On("connection", onConnection)
		sio.Of("/custom", nil).On("connection", onConnection)
		mux.Handle("/socket.io/", rt.Handler)
		return suite{Handler: mux, engine: rt.Engine, path: "/socket.io/", Close: func() { sio.Close(nil) }}, nil
	case "engineio":
		eio, h, err := realtime.NewEngine(o)
		if err != nil {
			return suite{}, err
		}
		_ = eio.On("connection", func(args ...any) {
			s := args[0].(*engineio.Socket)
			_ = s.On("data", func(a ...any) {
				if r, ok := a[0].(io.Reader); ok {
					s.Write(r, nil, nil)
				}
			})
		})
		mux.Handle("/engine.io/", h)
		return suite{Handler: mux, engine: eio, path: "/engine.io/", Close: func() { eio.Close() }}, nil
	}
	return suite{}, fmt.Errorf("unknown mode %q: want socketio or engineio", mode)
}
