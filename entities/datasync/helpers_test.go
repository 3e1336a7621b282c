package datasync

import (
	"context"
	"sort"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// stores are the backends every store-touching test runs on.
var stores = []struct {
	name string
	open func(t *testing.T) backend.Backend
}{
	{"memory", func(t *testing.T) backend.Backend {
		b := memory.New()
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"etcd", func(t *testing.T) backend.Backend { return sdptest.NewBackend(t) }},
}

// eachStore runs f on a fresh Config per backend.
func eachStore(t *testing.T, f func(t *testing.T, c *config.Config)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			c := config.New(s.open(t), config.Options{})
			t.Cleanup(func() { c.Close() })
			f(t, c)
		})
	}
}

func newLinks(t *testing.T, c *config.Config) *Links {
	t.Helper()
	l, err := NewLinks(c, "/datasync/test/links")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustCreate(t *testing.T, ds DataSource, e Entity) Entity {
	t.Helper()
	c, err := ds.Create(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kinds(ops []Operation) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = string(o.Kind)
	}
	return out
}

func countKinds(ops []Operation) map[OpKind]int {
	m := map[OpKind]int{}
	for _, o := range ops {
		m[o.Kind]++
	}
	return m
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
