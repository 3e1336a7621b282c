package config

import (
	"context"
	"fmt"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// openEtcd3 connects to the etcd endpoints of s. The global prefix is
// handled by the etcd3 backend itself (Config.Prefix), so newConfig is not
// given it again.
func openEtcd3(ctx context.Context, s Settings, opts Options) (backend.Backend, error) {
	b, err := etcd3.New(ctx, etcd3.Config{
		Endpoints:   s.URLs(),
		DialTimeout: opts.DialTimeout,
		TLS:         etcd3.TLSConfig{CAFile: s.CACert, CertFile: s.ClientCert, KeyFile: s.ClientKey},
		Username:    s.Username,
		Password:    s.Password,
		Prefix:      s.Prefix,

		Log:            opts.Logger,
		Registerer:     opts.Registerer,
		TracerProvider: opts.TracerProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("config: open etcd3: %w", err)
	}
	// The user, never the password or key material.
	telemetry.Logger(opts.Logger).Info("config: connected to etcd", "endpoints", s.URLs(), "user", s.Username,
		"prefix", s.Prefix, "tls", s.CACert != "" || s.ClientCert != "")
	return b, nil
}
