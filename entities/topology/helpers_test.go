package topology

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// backendCases lists the backends every rule is tested on.
var backendCases = []struct {
	name string
	new  func(t *testing.T) backend.Backend
}{
	{"memory", func(t *testing.T) backend.Backend {
		b := memory.New()
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"etcd3", func(t *testing.T) backend.Backend { return sdptest.NewBackend(t) }},
}

// eachBackend runs fn once per backend, with a fresh Config on a fresh store.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend.Backend, cfg *config.Config)) {
	t.Helper()
	for _, bc := range backendCases {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.new(t)
			cfg := config.New(b, config.Options{ClientLeaseTTL: 2 * time.Second})
			t.Cleanup(func() { cfg.Close() })
			fn(t, b, cfg)
		})
	}
}

// ctxT returns a context that ends with the test or after 60s.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// get reads one entity of k, and false if it is absent.
func get[T any](t *testing.T, cfg *config.Config, k *config.Kind[T], id string) (v T, ok bool) {
	t.Helper()
	err := cfg.Txn(context.Background(), func(tx *config.Txn) error {
		var err error
		v, err = k.Get(tx, id)
		ok = err == nil
		if errors.Is(err, backend.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil && !errors.Is(err, backend.ErrClosed) && !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("get %s: %v", k.Path(id), err)
	}
	return v, ok
}
