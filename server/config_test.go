package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaultsAndEnv(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.PostsPerPage != 2 || c.BcryptCost != 12 || c.JWTTTL != time.Hour || !c.GeneratedSecret || len(c.JWTSecret) < 32 {
		t.Errorf("defaults: %+v", c)
	}
	vars := map[string]string{
		"PORT": "9000", "CORS_ORIGINS": " https://a.example , http://b.example:8081 ", "CORS_METHODS": "get,post",
		"MONGODB_URI": "mongodb://user:hunter2hunter2@db:27017/feed", "JWT_SECRET": strings.Repeat("k", 32),
		"POSTS_PER_PAGE": "10", "LOG_LEVEL": "debug",
	}
	c, err = LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9000 || c.PostsPerPage != 10 || c.GeneratedSecret || c.LogLevel != slog.LevelDebug ||
		strings.Join(c.AllowedOrigins, " ") != "https://a.example http://b.example:8081" ||
		strings.Join(c.AllowedMethods, " ") != "GET POST" {
		t.Errorf("from env: %+v", c)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "config", c)
	if strings.Contains(buf.String(), "hunter2") || strings.Contains(buf.String(), strings.Repeat("k", 32)) {
		t.Errorf("secret in log: %s", buf.String())
	}
}

// TestLoadConfigImagePixels: the pixel cap has its default, reads
// MAX_IMAGE_PIXELS, refuses a value that is not a positive integer, and
// shows in the start-up log.
func TestLoadConfigImagePixels(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil || c.MaxImagePixels != 40_000_000 {
		t.Errorf("default MaxImagePixels = %d, %v; want 40000000", c.MaxImagePixels, err)
	}
	c, err = LoadConfig(func(k string) string { return map[string]string{"MAX_IMAGE_PIXELS": "1000000"}[k] })
	if err != nil || c.MaxImagePixels != 1_000_000 {
		t.Errorf("MAX_IMAGE_PIXELS=1000000: MaxImagePixels = %d, %v", c.MaxImagePixels, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "config", c)
	if !strings.Contains(buf.String(), "config.max_image_pixels=1000000") {
		t.Errorf("pixel cap not in the log: %s", buf.String())
	}
	for _, v := range []string{"0", "-5", "4e7", "lots"} {
		if _, err := LoadConfig(func(k string) string { return map[string]string{"MAX_IMAGE_PIXELS": v}[k] }); err == nil ||
			!strings.Contains(err.Error(), "MAX_IMAGE_PIXELS") {
			t.Errorf("MAX_IMAGE_PIXELS=%s: error %v, want one naming the variable", v, err)
		}
	}
}

// TestLoadConfigImageSweep: the sweep's age and interval have their
// defaults, read their variables, refuse what is not a positive duration,
// and show in the start-up log.
func TestLoadConfigImageSweep(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil || c.ImageSweepAge != time.Hour || c.ImageSweepInterval != time.Hour {
		t.Errorf("defaults: age %v, interval %v, %v; want 1h, 1h", c.ImageSweepAge, c.ImageSweepInterval, err)
	}
	vars := map[string]string{"IMAGE_SWEEP_AGE": "30m", "IMAGE_SWEEP_INTERVAL": "5m"}
	c, err = LoadConfig(func(k string) string { return vars[k] })
	if err != nil || c.ImageSweepAge != 30*time.Minute || c.ImageSweepInterval != 5*time.Minute {
		t.Errorf("from env: age %v, interval %v, %v", c.ImageSweepAge, c.ImageSweepInterval, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "config", c)
	if !strings.Contains(buf.String(), "config.image_sweep_age=30m0s") || !strings.Contains(buf.String(), "config.image_sweep_interval=5m0s") {
		t.Errorf("sweep settings not in the log: %s", buf.String())
	}
	for _, name := range []string{"IMAGE_SWEEP_AGE", "IMAGE_SWEEP_INTERVAL"} {
		for _, v := range []string{"0s", "-1h", "3600"} {
			if _, err := LoadConfig(func(k string) string { return map[string]string{name: v}[k] }); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: error %v, want one naming the variable", name, v, err)
			}
		}
	}
}
