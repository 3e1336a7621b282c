package backendtest

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/sdpconfig/sdpconfig/backend"
)

// commitReadCases check the optional backend.CommitReader; each is skipped
// for a backend that does not implement it.
var commitReadCases = []testCase{
	{"Table", testCommitReadTable},
	{"OverTheLimit", testCommitReadOverTheLimit},
	{"Errors", testCommitReadErrors},
}

// commitReader returns h's backend as a CommitReader, or skips the test.
func (h *harness) commitReader() backend.CommitReader {
	h.Helper()
	cr, ok := h.b.(backend.CommitReader)
	if !ok {
		h.Skip("the backend does not implement backend.CommitReader")
	}
	return cr
}

// testCommitReadTable: CommitRead commits as Commit does; only when the
// compares fail does it return the keys read that exist, in the order of
// the reads, after the Else branch ran, each as Get has it.
func testCommitReadTable(h *harness) {
	cr := h.commitReader()
	stale := []backend.Compare{{Range: backend.Key("/cr/a"), Target: backend.ModRevision, Op: backend.Equal, Value: 1}}
	for _, tc := range []struct {
		name     string
		t        backend.Txn
		reads    []string
		want     backend.CommitReadResult // Revision as an offset from the store's before
		wantKVs  []string                 // path=value of KVs
		wantVals map[string]string        // the store after
	}{
		{
			name:     "compares hold: no reads",
			t:        backend.Txn{Then: []backend.Op{backend.Put("/cr/a", "3", backend.NoLease)}},
			reads:    []string{"/cr/a", "/cr/b"},
			want:     backend.CommitReadResult{TxnResult: backend.TxnResult{Succeeded: true, Revision: 1}},
			wantVals: map[string]string{"/cr/a": "3", "/cr/b": "1"},
		},
		{
			name:     "compares fail: present keys in the order of reads, absent left out",
			t:        backend.Txn{If: stale},
			reads:    []string{"/cr/b", "/cr/none", "/cr/a"},
			want:     backend.CommitReadResult{Read: true},
			wantKVs:  []string{"/cr/b=1", "/cr/a=2"},
			wantVals: map[string]string{"/cr/a": "2", "/cr/b": "1"},
		},
		{
			name: "reads see the Else branch's writes",
			t: backend.Txn{If: stale, Else: []backend.Op{
				backend.Put("/cr/b", "else", backend.NoLease), backend.Delete(backend.Key("/cr/a")),
			}},
			reads:    []string{"/cr/a", "/cr/b"},
			want:     backend.CommitReadResult{TxnResult: backend.TxnResult{Revision: 1, Deleted: 1}, Read: true},
			wantKVs:  []string{"/cr/b=else"},
			wantVals: map[string]string{"/cr/b": "else"},
		},
		{
			name:     "no reads",
			t:        backend.Txn{If: stale},
			want:     backend.CommitReadResult{Read: true},
			wantVals: map[string]string{"/cr/a": "2", "/cr/b": "1"},
		},
	} {
		// Each case starts from the same store: /cr/a written twice, /cr/b once.
		if _, err := h.b.Delete(h.ctx, "/cr/", backend.DeleteOptions{Prefix: true}); err != nil {
			h.Fatalf("%s: clearing /cr/: %v", tc.name, err)
		}
		h.put("/cr/a", "1")
		h.put("/cr/b", "1")
		before := h.put("/cr/a", "2")
		res, err := cr.CommitRead(h.ctx, tc.t, tc.reads)
		if err != nil {
			h.Fatalf("%s: CommitRead: %v", tc.name, err)
		}
		var kvs []string
		for _, kv := range res.KVs {
			kvs = append(kvs, kv.Path+"="+kv.Value)
			h.wantKV(tc.name+": a key CommitRead returned", kv, h.get(kv.Path))
		}
		if !reflect.DeepEqual(kvs, tc.wantKVs) {
			h.Errorf("%s: KVs %q, want %q", tc.name, kvs, tc.wantKVs)
		}
		res.KVs = nil
		tc.want.Revision += before
		if !reflect.DeepEqual(res, tc.want) {
			h.Errorf("%s: result %+v, want %+v", tc.name, res, tc.want)
		}
		vals := map[string]string{}
		for _, kv := range h.list("/cr/", backend.ListOptions{WithValues: true}).KVs {
			vals[kv.Path] = kv.Value
		}
		if !reflect.DeepEqual(vals, tc.wantVals) {
			h.Errorf("%s: store after %v, want %v", tc.name, vals, tc.wantVals)
		}
	}
}

// testCommitReadOverTheLimit: when the Else ops and the reads together
// exceed the backend's op limit, CommitRead commits as Commit would and
// reports that it read nothing.
func testCommitReadOverTheLimit(h *harness) {
	cr := h.commitReader()
	l, ok := h.b.(backend.Limiter)
	if !ok {
		h.Skip("the backend does not implement backend.Limiter")
	}
	h.put("/cr/a", "1")
	before := h.put("/cr/a", "2")
	reads := make([]string, l.MaxTxnOps())
	for i := range reads {
		reads[i] = fmt.Sprintf("/cr/r%d", i)
	}
	t := backend.Txn{
		If:   []backend.Compare{{Range: backend.Key("/cr/a"), Target: backend.ModRevision, Op: backend.Equal, Value: 1}},
		Else: []backend.Op{backend.Put("/cr/c", "c", backend.NoLease)},
	}
	res, err := cr.CommitRead(h.ctx, t, reads)
	if err != nil {
		h.Fatalf("CommitRead over the limit: %v", err)
	}
	want := backend.CommitReadResult{TxnResult: backend.TxnResult{Revision: before + 1}}
	if res.Read || len(res.KVs) != 0 || res.TxnResult != want.TxnResult {
		h.Errorf("CommitRead over the limit = %+v, want %+v", res, want)
	}
	if v := h.value("/cr/c"); v != "c" {
		h.Errorf("the Else branch was not committed: /cr/c = %q", v)
	}
}

// testCommitReadErrors: an invalid read path, an unknown lease and a closed
// backend fail with their sentinels, writing nothing.
func testCommitReadErrors(h *harness) {
	cr := h.commitReader()
	h.put("/cr/a", "1")
	write := backend.Txn{Then: []backend.Op{backend.Put("/cr/a", "2", backend.NoLease)}}

	_, err := cr.CommitRead(h.ctx, write, []string{"/cr/ok", "bad//path"})
	if !errors.Is(err, backend.ErrInvalidPath) {
		h.Errorf("CommitRead with an invalid read path: %v, want ErrInvalidPath", err)
	}
	_, err = cr.CommitRead(h.ctx, backend.Txn{Then: []backend.Op{backend.Put("/cr/a", "2", 99999)}}, []string{"/cr/a"})
	if !errors.Is(err, backend.ErrLeaseExpired) {
		h.Errorf("CommitRead with an unknown lease: %v, want ErrLeaseExpired", err)
	}
	if v := h.value("/cr/a"); v != "1" {
		h.Errorf("a failed CommitRead wrote: /cr/a = %q", v)
	}
	if err := h.b.Close(); err != nil {
		h.Fatalf("Close: %v", err)
	}
	_, err = cr.CommitRead(h.ctx, write, []string{"/cr/a"})
	if !errors.Is(err, backend.ErrClosed) {
		h.Errorf("CommitRead on a closed backend: %v, want ErrClosed", err)
	}
}
