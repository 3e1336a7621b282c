package config

import (
	"context"
	"fmt"
	"os"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

// Open connects to the store the settings name and returns a Config that
// owns its backend: Close closes it. Settings come from opts, then the
// SDP_CONFIG_* environment, then the defaults (see ResolveSettings); an
// invalid one fails with a *SettingError. With the etcd3 backend, Open
// dials the endpoints and checks that the store answers (bounded by ctx and
// Options.DialTimeout), so a wrong address fails here rather than at the
// first transaction. The memory backend is a new, empty store private to
// this Config.
func Open(ctx context.Context, opts Options) (*Config, error) {
	s, err := ResolveSettings(opts, os.Getenv)
	if err != nil {
		return nil, err
	}
	return OpenSettings(ctx, s, opts)
}

// OpenSettings is Open with settings already resolved (by ResolveSettings,
// as the CLI does to print them first). Of opts it uses only what is not a
// connection setting: DialTimeout, Owner, ClientLeaseTTL and TxnOptions;
// the prefix is s.Prefix.
func OpenSettings(ctx context.Context, s Settings, opts Options) (*Config, error) {
	var b backend.Backend
	opts.Prefix = s.Prefix
	switch s.Backend {
	case BackendMemory:
		b = memory.New()
	case BackendEtcd3:
		if s.Prefix != "" {
			if err := backend.ValidateWritePath(s.Prefix); err != nil {
				return nil, &SettingError{Name: SettingPrefix, Source: s.Source(SettingPrefix), Value: s.Prefix, Reason: err.Error()}
			}
		}
		var err error
		if b, err = openEtcd3(ctx, s, opts); err != nil {
			return nil, err
		}
		opts.Prefix = "" // the etcd3 backend applies it
	default:
		return nil, &SettingError{Name: SettingBackend, Source: s.Source(SettingBackend), Value: s.Backend, Reason: `unknown backend: use "etcd3" or "memory"`}
	}
	c, err := newConfig(b, opts, true)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}
