package mirror_test

import (
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

// testStore is a backend under test with the hooks the tests need.
type testStore struct {
	backend.Backend
	// expire makes lease l end on its own (not revoked), so that the store
	// deletes its keys.
	expire func(t testing.TB, l backend.Lease)
	// drop cuts every open watch stream with ErrUnavailable; nil when the
	// store cannot.
	drop func()
}

// stores are the backends every Mirror test runs on.
var stores = []struct {
	name string
	open func(t testing.TB) *testStore
}{
	{"memory", openMemory},
	{"etcd", openEtcd},
}

func openMemory(t testing.TB) *testStore {
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	return &testStore{
		Backend: b,
		expire: func(t testing.TB, l backend.Lease) {
			assert.NilError(t, b.ExpireLease(l.ID()))
		},
		drop: b.DropWatches,
	}
}

// forEachStore runs f on a fresh store of each kind.
func forEachStore(t *testing.T, f func(t *testing.T, s *testStore)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			f(t, st.open(t))
		})
	}
}
