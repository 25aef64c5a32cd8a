package server

import (
	"strings"
	"testing"
)

// TestLoadConfigPprof: PPROF_ADDR is off by default, read as host:port,
// refused otherwise, and shown in the start-up log.
func TestLoadConfigPprof(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.PprofAddr != "" {
		t.Errorf("default PprofAddr = %q, %v; want off", c.PprofAddr, err)
	}
	c, err = loadEnv(map[string]string{"PPROF_ADDR": "127.0.0.1:6060"})
	if err != nil || c.PprofAddr != "127.0.0.1:6060" {
		t.Errorf("PPROF_ADDR=127.0.0.1:6060: PprofAddr = %q, %v", c.PprofAddr, err)
	}
	logged := configLog(c)
	if !strings.Contains(logged, "config.pprof_addr=127.0.0.1:6060") {
		t.Errorf("pprof address not in the log: %s", logged)
	}
	if _, err := loadEnv(map[string]string{"PPROF_ADDR": "6060"}); err == nil ||
		!strings.Contains(err.Error(), "PPROF_ADDR") {
		t.Errorf("PPROF_ADDR=6060: error %v, want one naming PPROF_ADDR", err)
	}
}

// TestLoadConfigGCPercent: the collector's target is 50 unless GOGC is
// set, which the Go runtime reads itself (GCPercent 0: leave it).
func TestLoadConfigGCPercent(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.GCPercent != 50 {
		t.Errorf("default GCPercent = %d, %v; want 50", c.GCPercent, err)
	}
	if logged := configLog(c); !strings.Contains(logged, "config.gc_percent=50") {
		t.Errorf("GC percent not in the log: %s", logged)
	}
	c, err = loadEnv(map[string]string{"GOGC": "200"})
	if err != nil || c.GCPercent != 0 {
		t.Errorf("GOGC=200: GCPercent = %d, %v; want 0 (the runtime's)", c.GCPercent, err)
	}
}
