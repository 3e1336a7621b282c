package config

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
)

func newEtcdBackend(t *testing.T) backend.Backend {
	t.Skip("etcd3 backend not available yet")
	return nil
}
