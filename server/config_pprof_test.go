package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLoadConfigPprof: PPROF_ADDR is off by default, read as host:port,
// refused otherwise, and shown in the start-up log.
func TestLoadConfigPprof(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil || c.PprofAddr != "" {
		t.Errorf("default PprofAddr = %q, %v; want off", c.PprofAddr, err)
	}
	c, err = LoadConfig(func(k string) string { return map[string]string{"PPROF_ADDR": "127.0.0.1:6060"}[k] })
	if err != nil || c.PprofAddr != "127.0.0.1:6060" {
		t.Errorf("PPROF_ADDR=127.0.0.1:6060: PprofAddr = %q, %v", c.PprofAddr, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "config", c)
	if !strings.Contains(buf.String(), "config.pprof_addr=127.0.0.1:6060") {
		t.Errorf("pprof address not in the log: %s", buf.String())
	}
	if _, err := LoadConfig(func(k string) string { return map[string]string{"PPROF_ADDR": "6060"}[k] }); err == nil ||
		!strings.Contains(err.Error(), "PPROF_ADDR") {
		t.Errorf("PPROF_ADDR=6060: error %v, want one naming PPROF_ADDR", err)
	}
}
