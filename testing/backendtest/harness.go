package backendtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

const (
	// testTimeout bounds every call a subtest makes (through harness.ctx).
	testTimeout = 60 * time.Second
	// waitTimeout bounds each wait for a condition or a watch response. It
	// is generous because lease expiry needs real time (etcd checks expiry
	// every ~500ms and may grant more TTL than asked).
	waitTimeout = 10 * time.Second
	// pollInterval is how often eventually re-checks its condition.
	pollInterval = 20 * time.Millisecond
)

// harness is the state of one subtest: its backend and a context that ends
// with the subtest. Its helpers fail the test on any unexpected error.
type harness struct {
	*testing.T
	b   backend.Backend
	ctx context.Context
}

func newHarness(t *testing.T, b backend.Backend) *harness {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return &harness{T: t, b: b, ctx: ctx}
}

// rev returns the store revision.
func (h *harness) rev() int64 {
	h.Helper()
	r, err := h.b.Revision(h.ctx)
	if err != nil {
		h.Fatalf("Revision: %v", err)
	}
	return r
}

// wantRev fails unless the store revision is want.
func (h *harness) wantRev(want int64, why string) {
	h.Helper()
	if got := h.rev(); got != want {
		h.Errorf("Revision() = %d, want %d (%s)", got, want, why)
	}
}

// create creates path with no lease and checks that it took exactly one
// revision.
func (h *harness) create(path, value string) int64 {
	h.Helper()
	return h.createLease(path, value, backend.NoLease)
}

// createLease creates path attached to lease and checks that it took
// exactly one revision.
func (h *harness) createLease(path, value string, lease backend.LeaseID) int64 {
	h.Helper()
	before := h.rev()
	r, err := h.b.Create(h.ctx, path, value, lease)
	if err != nil {
		h.Fatalf("Create(%q): %v", path, err)
	}
	if r != before+1 {
		h.Fatalf("Create(%q) returned revision %d, want %d (revision before + 1)", path, r, before+1)
	}
	return r
}

// update overwrites path and checks that it took exactly one revision.
func (h *harness) update(path, value string) int64 {
	h.Helper()
	before := h.rev()
	r, err := h.b.Update(h.ctx, path, value)
	if err != nil {
		h.Fatalf("Update(%q): %v", path, err)
	}
	if r != before+1 {
		h.Fatalf("Update(%q) returned revision %d, want %d (revision before + 1)", path, r, before+1)
	}
	return r
}

// put writes path (creating or overwriting it) with a one-op commit.
func (h *harness) put(path, value string) int64 {
	h.Helper()
	res := h.commit(backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
	return res.Revision
}

// putAll puts each path of kvs (path → value) in sorted order, one revision
// each, and returns the revision of the last write.
func (h *harness) putAll(kvs map[string]string) int64 {
	h.Helper()
	var last int64
	for _, p := range sortedKeys(kvs) {
		last = h.put(p, kvs[p])
	}
	return last
}

// commit commits t and fails on error.
func (h *harness) commit(t backend.Txn) backend.TxnResult {
	h.Helper()
	res, err := h.b.Commit(h.ctx, t)
	if err != nil {
		h.Fatalf("Commit: %v", err)
	}
	return res
}

// get reads path at the newest revision and fails if it is missing.
func (h *harness) get(path string) backend.KeyValue {
	h.Helper()
	return h.getAt(path, 0)
}

// getAt reads path at rev and fails if it is missing.
func (h *harness) getAt(path string, rev int64) backend.KeyValue {
	h.Helper()
	kv, _, err := h.b.Get(h.ctx, path, rev)
	if err != nil {
		h.Fatalf("Get(%q, %d): %v", path, rev, err)
	}
	return kv
}

// missing fails unless path does not exist at the newest revision.
func (h *harness) missing(path string) {
	h.Helper()
	h.missingAt(path, 0)
}

// missingAt fails unless Get(path, rev) fails with ErrNotFound.
func (h *harness) missingAt(path string, rev int64) {
	h.Helper()
	kv, _, err := h.b.Get(h.ctx, path, rev)
	if !errors.Is(err, backend.ErrNotFound) {
		h.Errorf("Get(%q, %d) = %s, %v; want ErrNotFound", path, rev, fmtKV(kv), err)
	}
}

// value returns the value of path, or "<missing>".
func (h *harness) value(path string) string {
	h.Helper()
	kv, _, err := h.b.Get(h.ctx, path, 0)
	if errors.Is(err, backend.ErrNotFound) {
		return "<missing>"
	}
	if err != nil {
		h.Fatalf("Get(%q): %v", path, err)
	}
	return kv.Value
}

// list lists prefix and fails on error.
func (h *harness) list(prefix string, opts backend.ListOptions) backend.ListResult {
	h.Helper()
	res, err := h.b.List(h.ctx, prefix, opts)
	if err != nil {
		h.Fatalf("List(%q, %+v): %v", prefix, opts, err)
	}
	return res
}

// wantPaths fails unless kvs hold exactly want, in that order.
func (h *harness) wantPaths(what string, kvs []backend.KeyValue, want ...string) {
	h.Helper()
	got := paths(kvs)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		h.Errorf("%s: paths = %q, want %q", what, got, want)
	}
}

// wantKV fails unless got equals want in every field.
func (h *harness) wantKV(what string, got, want backend.KeyValue) {
	h.Helper()
	if got != want {
		h.Errorf("%s:\n got  %s\n want %s", what, fmtKV(got), fmtKV(want))
	}
}

// wantErr fails unless err wraps target and, when path is not empty, its
// text names path.
func (h *harness) wantErr(what string, err, target error, path string) {
	h.Helper()
	if !errors.Is(err, target) {
		h.Errorf("%s: error = %v, want %v", what, err, target)
		return
	}
	if path != "" && !namesPath(err.Error(), path) {
		h.Errorf("%s: error %q does not name the path %q", what, err, path)
	}
}

// eventually polls cond until it reports true, and fails the test if it
// does not within waitTimeout. cond returns a description of the state it
// saw, for the failure message.
func (h *harness) eventually(what string, cond func() (bool, string)) {
	h.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.Fatalf("%s: not true after %v; last state: %s", what, waitTimeout, state)
		}
		select {
		case <-tick.C:
		case <-h.ctx.Done():
			h.Fatalf("%s: %v; last state: %s", what, h.ctx.Err(), state)
		}
	}
}

// lease grants a lease of ttl and revokes and closes it when the test
// ends, so that its keys do not expire into a later subtest on a shared
// store (which would move the revision under it).
func (h *harness) lease(ttl time.Duration) backend.Lease {
	h.Helper()
	l, err := h.b.Lease(h.ctx, ttl)
	if err != nil {
		h.Fatalf("Lease(%v): %v", ttl, err)
	}
	h.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = l.Revoke(ctx) // fails harmlessly if it already ended
		_ = l.Close()
	})
	return l
}

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// namesPath reports whether an error message names path, as is or quoted.
func namesPath(msg, path string) bool {
	return strings.Contains(msg, path) ||
		strings.Contains(msg, strconv.Quote(path)) ||
		strings.Contains(msg, strconv.QuoteToASCII(path)) ||
		strings.Contains(msg, fmt.Sprintf("%+q", path))
}

// paths returns the paths of kvs.
func paths(kvs []backend.KeyValue) []string {
	ps := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		ps = append(ps, kv.Path)
	}
	return ps
}

// sortedKeys returns the keys of m in byte order.
func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// fmtKV formats a KeyValue on one line.
func fmtKV(kv backend.KeyValue) string {
	return fmt.Sprintf("{%s %q create=%d mod=%d ver=%d lease=%d}",
		kv.Path, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease)
}
