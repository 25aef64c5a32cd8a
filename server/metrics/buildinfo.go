package metrics

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Modules whose versions the build info gauge names: the Socket.IO
// server library and Gin, whose upgrades change behaviour on the wire.
const (
	socketIOModule = "github.com/zishang520/socket.io/servers/socket/v3"
	ginModule      = "github.com/gin-gonic/gin"
)

// buildInfo is what feedrt_build_info says about the binary.
type buildInfo struct {
	version, goVersion, socketIO, gin string
}

// readBuildInfo reads the versions from the binary's embedded build
// information; what it lacks (a binary built without module support)
// is "unknown".
func readBuildInfo() buildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return buildInfo{version: "unknown", goVersion: runtime.Version(), socketIO: "unknown", gin: "unknown"}
	}
	return buildInfoOf(bi)
}

// buildInfoOf picks the versions out of bi.
func buildInfoOf(bi *debug.BuildInfo) buildInfo {
	info := buildInfo{
		version:   orUnknown(bi.Main.Version),
		goVersion: orUnknown(bi.GoVersion),
		socketIO:  "unknown",
		gin:       "unknown",
	}
	for _, d := range bi.Deps {
		v := d.Version
		if d.Replace != nil && d.Replace.Version != "" {
			v = d.Replace.Version
		}
		switch d.Path {
		case socketIOModule:
			info.socketIO = orUnknown(v)
		case ginModule:
			info.gin = orUnknown(v)
		}
	}
	return info
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

// registerBuildInfo registers feedrt_build_info, a gauge of 1 whose
// labels carry the versions (join on it to label other series).
func registerBuildInfo(reg prometheus.Registerer, info buildInfo) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "build_info",
		Help:      "Always 1; the labels name the versions of this binary, its Go toolchain, and its Socket.IO and Gin modules.",
		ConstLabels: prometheus.Labels{
			"version":          info.version,
			"goversion":        info.goVersion,
			"socketio_version": info.socketIO,
			"gin_version":      info.gin,
		},
	})
	g.Set(1)
	reg.MustRegister(g)
}
