package memory_test

import (
	"context"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

func TestCommitRead(t *testing.T) {
	ctx := context.Background()
	stale := []backend.Compare{cmp(backend.Key("/a"), backend.ModRevision, backend.Equal, 1)}
	for _, tc := range []struct {
		name     string
		maxOps   int
		t        backend.Txn
		reads    []string
		want     backend.CommitReadResult // Revision as an offset from the store's before
		wantKVs  []string                 // path=value of KVs
		wantVals map[string]string        // the store after
	}{
		{
			name:     "compares hold: no reads",
			t:        backend.Txn{Then: []backend.Op{backend.Put("/a", "3", backend.NoLease)}},
			reads:    []string{"/a", "/b"},
			want:     backend.CommitReadResult{TxnResult: backend.TxnResult{Succeeded: true, Revision: 1}},
			wantVals: map[string]string{"/a": "3", "/b": "1"},
		},
		{
			name:     "compares fail: present keys in the order of reads, absent left out",
			t:        backend.Txn{If: stale},
			reads:    []string{"/b", "/none", "/a"},
			want:     backend.CommitReadResult{Read: true},
			wantKVs:  []string{"/b=1", "/a=2"},
			wantVals: map[string]string{"/a": "2", "/b": "1"},
		},
		{
			name: "reads see the Else branch's writes",
			t: backend.Txn{If: stale, Else: []backend.Op{
				backend.Put("/b", "else", backend.NoLease), backend.Delete(backend.Key("/a")),
			}},
			reads:    []string{"/a", "/b"},
			want:     backend.CommitReadResult{TxnResult: backend.TxnResult{Revision: 1, Deleted: 1}, Read: true},
			wantKVs:  []string{"/b=else"},
			wantVals: map[string]string{"/b": "else"},
		},
		{
			name:     "no reads",
			t:        backend.Txn{If: stale},
			want:     backend.CommitReadResult{Read: true},
			wantVals: map[string]string{"/a": "2", "/b": "1"},
		},
		{
			name:     "reads over the limit: a plain commit",
			maxOps:   2,
			t:        backend.Txn{If: stale, Else: []backend.Op{backend.Put("/c", "c", backend.NoLease)}},
			reads:    []string{"/a", "/b"},
			want:     backend.CommitReadResult{TxnResult: backend.TxnResult{Revision: 1}},
			wantVals: map[string]string{"/a": "2", "/b": "1", "/c": "c"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []memory.Option
			if tc.maxOps > 0 {
				opts = append(opts, memory.WithMaxTxnOps(tc.maxOps))
			}
			b := newBackend(t, opts...)
			put(t, b, "/a", "1")
			put(t, b, "/b", "1")
			before := put(t, b, "/a", "2")
			res, err := b.CommitRead(ctx, tc.t, tc.reads)
			assert.NilError(t, err)
			var kvs []string
			for _, kv := range res.KVs {
				kvs = append(kvs, kv.Path+"="+kv.Value)
				// Every key as Get has it at the result's revision.
				assert.DeepEqual(t, kv, get(t, b, kv.Path))
			}
			assert.DeepEqual(t, kvs, tc.wantKVs)
			res.KVs = nil
			tc.want.Revision += before
			assert.DeepEqual(t, res, tc.want)
			got, err := b.List(ctx, "/", backend.ListOptions{WithValues: true})
			assert.NilError(t, err)
			vals := map[string]string{}
			for _, kv := range got.KVs {
				vals[kv.Path] = kv.Value
			}
			assert.DeepEqual(t, vals, tc.wantVals)
		})
	}
}

func TestCommitReadErrors(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/a", "1")
	write := backend.Txn{Then: []backend.Op{backend.Put("/a", "2", backend.NoLease)}}

	_, err := b.CommitRead(ctx, write, []string{"/ok", "bad//path"})
	assert.ErrorIs(t, err, backend.ErrInvalidPath)
	_, err = b.CommitRead(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", "2", 99)}}, []string{"/a"})
	assert.ErrorIs(t, err, backend.ErrLeaseExpired)
	assert.Equal(t, get(t, b, "/a").Value, "1", "a failed CommitRead wrote")

	assert.NilError(t, b.Close())
	_, err = b.CommitRead(ctx, write, []string{"/a"})
	assert.ErrorIs(t, err, backend.ErrClosed)
}
