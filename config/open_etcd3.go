package config

import (
	"context"
	"errors"

	"github.com/sdpconfig/sdpconfig/backend"
)

// openEtcd3 is a placeholder until backend/etcd3 lands.
func openEtcd3(ctx context.Context, s Settings, opts Options) (backend.Backend, error) {
	return nil, errors.New("config: etcd3 backend not available yet")
}
