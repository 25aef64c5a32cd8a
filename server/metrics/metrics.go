// Package metrics is the server's Prometheus instrumentation: one
// registry per server instance, the Go runtime and process collectors,
// and the feed's own metrics (HTTP requests, store operations, images,
// the Redis cluster, build information, and the Socket.IO engine's
// sockets), and the Listener that serves them on an address of their
// own. It keeps Prometheus out of store/ and handlers/: those packages
// declare small observer interfaces or are wrapped here.
//
// Every metric is created and registered by New. The series updated on
// hot paths (store operations, Redis messages, the Socket.IO engine's
// connections and broadcasts) are resolved there once, so reporting is
// an atomic add: no label lookup, no lock, no allocation. HTTP requests
// look their series up by label (route templates are only known once the
// routes are registered), a hash per request. A nil *Metrics is valid
// and does nothing, so code can report unconditionally whether metrics
// are on or off.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of the feed itself.
const namespace = "feedrt"

// Metrics owns one registry and every metric of one server instance.
type Metrics struct {
	reg     *prometheus.Registry
	http    *httpMetrics
	store   *storeMetrics
	images  *Images
	redis   *Redis
	sockets *socketMetrics
	conns   *connMetrics
}

// New makes the registry of one server, with the Go runtime and process
// collectors, the build information of this binary, and every metric of
// the feed at zero. events are the broadcast events counted under their
// own name (the feed's "posts"); every other is counted as "other".
func New(events ...string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &Metrics{reg: reg}
	registerBuildInfo(reg, readBuildInfo())
	m.http = newHTTPMetrics(reg)
	m.store = newStoreMetrics(reg)
	m.images = newImages(reg)
	m.redis = newRedis(reg)
	m.sockets = newSocketMetrics(reg, events)
	m.conns = newConnMetrics(reg)
	return m
}

// Registry is the registry the metrics are in, for tests and for code
// that adds collectors of its own.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in Prometheus's exposition formats; a
// failure to collect one metric is reported in the answer (HTTP 500)
// rather than hidden.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// newCounterVec makes, registers and returns a counter family of the
// feed's namespace.
func newCounterVec(reg prometheus.Registerer, name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	reg.MustRegister(v)
	return v
}

// newCounter makes and registers an unlabelled counter.
func newCounter(reg prometheus.Registerer, name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	reg.MustRegister(c)
	return c
}

// newGauge makes and registers an unlabelled gauge.
func newGauge(reg prometheus.Registerer, name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	reg.MustRegister(g)
	return g
}
