package watcher_test

import (
	"testing"
)

func openEtcd(t testing.TB) *testStore {
	t.Skip("etcd3 backend not landed yet")
	return nil
}
