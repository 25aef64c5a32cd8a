package server

import (
	"strings"
	"testing"
)

// TestLoadConfigMetrics: METRICS_ADDR is off by default, read as
// host:port, refused when malformed or on the public port, and shown in
// the start-up log.
func TestLoadConfigMetrics(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.MetricsAddr != "" {
		t.Errorf("default MetricsAddr = %q, %v; want off", c.MetricsAddr, err)
	}
	if logged := configLog(c); !strings.Contains(logged, "config.metrics_addr=(off)") {
		t.Errorf("metrics off not in the log: %s", logged)
	}
	c, err = loadEnv(map[string]string{"METRICS_ADDR": "127.0.0.1:9464"})
	if err != nil || c.MetricsAddr != "127.0.0.1:9464" {
		t.Errorf("METRICS_ADDR=127.0.0.1:9464: MetricsAddr = %q, %v", c.MetricsAddr, err)
	}
	if logged := configLog(c); !strings.Contains(logged, "config.metrics_addr=127.0.0.1:9464") {
		t.Errorf("metrics address not in the log: %s", logged)
	}
	for _, env := range []map[string]string{
		{"METRICS_ADDR": "9464"},
		{"METRICS_ADDR": ":8080"},                          // the default PORT
		{"METRICS_ADDR": "127.0.0.1:9000", "PORT": "9000"}, // the public port on one interface
	} {
		if _, err := loadEnv(env); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
			t.Errorf("%v: error %v, want one naming METRICS_ADDR", env, err)
		}
	}
}
