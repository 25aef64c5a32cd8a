package server

import (
	"log/slog"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/adminui"
)

// The Admin UI's fixed settings: the Node plugin's stats interval (the UI
// marks a server unhealthy after 10 s without stats) and its RedisStore's
// session lifetime, which the plugin does not offer as options either.
const (
	adminStatsInterval = 2 * time.Second
	adminSessionTTL    = 24 * time.Hour
	adminMaxSessions   = 10_000
)

// startAdminUI adds the Admin UI's namespace to io when the config sets
// its credentials; nil when it does not.
func startAdminUI(cfg Config, io *socket.Server, log *slog.Logger, now func() time.Time) (*adminui.Admin, error) {
	ac := cfg.Admin
	if ac.Username == "" {
		return nil, nil
	}
	a, err := adminui.Instrument(io, adminui.Options{
		Namespace:     ac.Namespace,
		Username:      ac.Username,
		PasswordHash:  ac.PasswordBcrypt,
		Readonly:      ac.Readonly,
		Development:   ac.Development(),
		ServerID:      ac.ServerID,
		StatsInterval: adminStatsInterval,
		SessionTTL:    adminSessionTTL,
		MaxSessions:   adminMaxSessions,
		MaxCompares:   cfg.Auth.BcryptConcurrency,
		Now:           now,
		Log:           log.With("component", "admin-ui"),
	})
	if err != nil {
		return nil, err
	}
	log.Info("Socket.IO Admin UI enabled", "namespace", ac.Namespace, "readonly", ac.Readonly, "server_id", ac.ServerID)
	return a, nil
}

// closeAdminUI stops the Admin UI's stats; before Socket.IO closes.
func (s *Server) closeAdminUI() {
	if s.admin != nil {
		s.admin.Close()
	}
}
