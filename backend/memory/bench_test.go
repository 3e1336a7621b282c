package memory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

// mapStore is the baseline: a plain map behind a sync.RWMutex doing the
// work a store must at least do: return the key with its metadata, and
// put a key only if its mod revision is the expected one.
type mapStore struct {
	mu  sync.RWMutex
	rev int64
	kvs map[string]backend.KeyValue
}

func (m *mapStore) get(path string) (backend.KeyValue, int64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	kv, ok := m.kvs[path]
	return kv, m.rev, ok
}

func (m *mapStore) putIf(path, value string, modRev int64) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kv := m.kvs[path]
	if kv.ModRevision != modRev {
		return m.rev, false
	}
	m.rev++
	if kv.CreateRevision == 0 {
		kv.CreateRevision = m.rev
	}
	kv.Path, kv.Value, kv.ModRevision = path, value, m.rev
	kv.Version++
	m.kvs[path] = kv
	return m.rev, true
}

const benchKeys = 1000

func benchPaths() []string {
	paths := make([]string, benchKeys)
	for i := range paths {
		paths[i] = fmt.Sprintf("/bench/key-%04d", i)
	}
	return paths
}

// BenchmarkGet compares Get of one of 1000 keys, from parallel readers,
// with the map baseline.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	paths := benchPaths()
	b.Run("map", func(b *testing.B) {
		m := &mapStore{kvs: map[string]backend.KeyValue{}}
		for _, p := range paths {
			m.putIf(p, "value", 0)
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, _, ok := m.get(paths[i%benchKeys]); !ok {
					b.Error("missing")
				}
				i++
			}
		})
	})
	b.Run("memory", func(b *testing.B) {
		s := memory.New()
		defer s.Close()
		for _, p := range paths {
			if _, err := s.Create(ctx, p, "value", backend.NoLease); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, _, err := s.Get(ctx, paths[i%benchKeys], 0); err != nil {
					b.Error(err)
				}
				i++
			}
		})
	})
}

// BenchmarkCommit compares a single-key commit (a put guarded by a
// ModRevision compare that holds) with the map baseline, from one writer.
// The store's history is compacted every 10000 commits, as a long-running
// store's would be.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	paths := benchPaths()
	b.Run("map", func(b *testing.B) {
		m := &mapStore{kvs: map[string]backend.KeyValue{}}
		mod := make([]int64, benchKeys)
		for i := 0; i < b.N; i++ {
			k := i % benchKeys
			rev, ok := m.putIf(paths[k], "value", mod[k])
			if !ok {
				b.Fatal("conflict")
			}
			mod[k] = rev
		}
	})
	b.Run("memory", func(b *testing.B) {
		s := memory.New()
		defer s.Close()
		mod := make([]int64, benchKeys)
		for i := 0; i < b.N; i++ {
			rev := guardedPut(b, s, paths, mod, i)
			if i%10000 == 9999 {
				if err := s.Compact(ctx, rev); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkCommitHistory measures the single-key commit of BenchmarkCommit
// after history commits already made, on a store never compacted
// (retain=0) and on one with WithAutoCompaction: with it, the cost must
// not grow with the history.
//
//	go test -run '^$' -bench CommitHistory -benchtime 200000x ./backend/memory/
func BenchmarkCommitHistory(b *testing.B) {
	paths := benchPaths()
	for _, c := range []struct {
		history int
		retain  int64
	}{{0, 0}, {100_000, 0}, {1_000_000, 0}, {0, 10_000}, {100_000, 10_000}, {1_000_000, 10_000}} {
		history := c.history
		b.Run(fmt.Sprintf("history=%d/retain=%d", c.history, c.retain), func(b *testing.B) {
			s := memory.New(memory.WithAutoCompaction(c.retain))
			defer s.Close()
			mod := make([]int64, benchKeys)
			for i := 0; i < history; i++ {
				guardedPut(b, s, paths, mod, i)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				guardedPut(b, s, paths, mod, history+i)
			}
		})
	}
}

// guardedPut commits op i of the single-key benchmarks: a put of key
// i%benchKeys guarded by its last mod revision (kept in mod), and returns
// the new revision.
func guardedPut(b *testing.B, s *memory.Backend, paths []string, mod []int64, i int) int64 {
	k := i % benchKeys
	p := paths[k]
	res, err := s.Commit(context.Background(), backend.Txn{
		If:   []backend.Compare{{Range: backend.Key(p), Target: backend.ModRevision, Op: backend.Equal, Value: mod[k]}},
		Then: []backend.Op{backend.Put(p, "value", backend.NoLease)},
	})
	if err != nil || !res.Succeeded {
		b.Fatal(err, res)
	}
	mod[k] = res.Revision
	return res.Revision
}
