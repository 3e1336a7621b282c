package config

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

// backendCase builds a fresh backend for one test; the test's cleanup
// closes it.
type backendCase struct {
	name string
	new  func(t *testing.T) backend.Backend
}

// backendCases lists every backend the tests run on: the memory backend
// and a real embedded etcd.
var backendCases = []backendCase{
	{"memory", func(t *testing.T) backend.Backend {
		b := memory.New()
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"etcd3", newEtcdBackend},
}

// eachBackend runs fn as one subtest per backend, with a fresh backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend.Backend)) {
	t.Helper()
	for _, bc := range backendCases {
		t.Run(bc.name, func(t *testing.T) {
			fn(t, bc.new(t))
		})
	}
}

// newTestConfig returns a Config over b (not owning it), closed by the
// test's cleanup.
func newTestConfig(t *testing.T, b backend.Backend, opts Options) *Config {
	t.Helper()
	c := New(b, opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// ctxT returns a context that ends with the test or after 30s.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawGet reads path straight from b: its value and whether it exists.
func rawGet(t *testing.T, b backend.Backend, path string) (string, bool) {
	t.Helper()
	kv, _, err := b.Get(context.Background(), path, 0)
	if err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return "", false
		}
		t.Fatalf("raw get %q: %v", path, err)
	}
	return kv.Value, true
}
