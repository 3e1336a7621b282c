package backendtest

import (
	"errors"
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

var leaseCases = []testCase{
	{"Grant", testLeaseGrant},
	{"Attach", testLeaseAttach},
	{"Revoke", testLeaseRevoke},
	{"RevokeEmpty", testLeaseRevokeEmpty},
	{"RevokedOrUnknownLease", testLeaseRevokedOrUnknown},
	{"KeepAlive", testLeaseKeepAlive},
	{"Expiry", testLeaseExpiry},
}

// isDone reports whether l's Done channel is closed.
func isDone(l backend.Lease) bool {
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}

// testLeaseGrant: a lease has an ID, a TTL of at least what was asked
// rounded up to whole seconds (at least one), is alive, and granting it
// writes nothing.
func testLeaseGrant(h *harness) {
	h.create("/l/x", "x")
	before := h.rev()
	cases := []struct {
		ask, min time.Duration
	}{
		{1500 * time.Millisecond, 2 * time.Second},
		{time.Second, time.Second},
		{time.Millisecond, time.Second},
		{0, time.Second},
		{3 * time.Second, 3 * time.Second},
	}
	ids := map[backend.LeaseID]bool{}
	for _, c := range cases {
		l := h.lease(c.ask)
		if l.ID() == backend.NoLease {
			h.Errorf("Lease(%v).ID() = NoLease", c.ask)
		}
		if ids[l.ID()] {
			h.Errorf("Lease(%v).ID() = %d, already given to another lease", c.ask, l.ID())
		}
		ids[l.ID()] = true
		if ttl := l.TTL(); ttl < c.min || ttl%time.Second != 0 {
			h.Errorf("Lease(%v).TTL() = %v, want whole seconds, at least %v", c.ask, ttl, c.min)
		}
		if l.Err() != nil || isDone(l) {
			h.Errorf("new Lease(%v): Err() = %v, Done closed %v; want alive", c.ask, l.Err(), isDone(l))
		}
	}
	h.wantRev(before, "after granting leases")
}

// testLeaseAttach: Create and a commit put attach keys to a lease; Get and
// List report it.
func testLeaseAttach(h *harness) {
	l := h.lease(30 * time.Second)
	c := h.createLease("/l/a", "a", l.ID())
	h.wantKV("created with a lease", h.get("/l/a"), backend.KeyValue{Path: "/l/a", Value: "a", CreateRevision: c, ModRevision: c, Version: 1, Lease: l.ID()})
	h.commit(backend.Txn{Then: []backend.Op{backend.Put("/l/b", "b", l.ID())}})
	h.create("/l/c", "c")
	kvs := h.list("/l/", backend.ListOptions{WithValues: true}).KVs
	want := map[string]backend.LeaseID{"/l/a": l.ID(), "/l/b": l.ID(), "/l/c": backend.NoLease}
	h.wantPaths("List", kvs, "/l/a", "/l/b", "/l/c")
	for _, kv := range kvs {
		if kv.Lease != want[kv.Path] {
			h.Errorf("List: %s has Lease %d, want %d", kv.Path, kv.Lease, want[kv.Path])
		}
	}
}

// testLeaseRevoke: Revoke deletes the lease's keys at once, at one
// revision, with a delete event each; the lease then reports
// ErrLeaseExpired.
func testLeaseRevoke(h *harness) {
	l := h.lease(30 * time.Second)
	h.createLease("/l/a", "a", l.ID())
	h.createLease("/l/b/deep", "b", l.ID())
	h.create("/l/free", "f")
	a, b := h.get("/l/a"), h.get("/l/b/deep")
	before := h.rev()
	w := h.watch(backend.Subtree("/l"), before+1)

	if err := l.Revoke(h.ctx); err != nil {
		h.Fatalf("Revoke: %v", err)
	}
	r := before + 1
	h.wantRev(r, "after Revoke deleted two keys")
	h.missing("/l/a")
	h.missing("/l/b/deep")
	if got := h.value("/l/free"); got != "f" {
		h.Errorf("key without the lease after Revoke = %q, want %q", got, "f")
	}
	evs := w.sync("events of Revoke", r)
	byPath := map[string]backend.Event{}
	for _, e := range evs {
		byPath[e.KV.Path] = e
	}
	if len(evs) != 2 {
		h.Errorf("Revoke: got events %s, want two deletes", fmtEvents(evs))
	}
	h.wantEvents("Revoke: event of /l/a", []backend.Event{byPath["/l/a"]}, []backend.Event{deleteEvent(a, r)})
	h.wantEvents("Revoke: event of /l/b/deep", []backend.Event{byPath["/l/b/deep"]}, []backend.Event{deleteEvent(b, r)})

	h.eventually("Done closed after Revoke", func() (bool, string) {
		return isDone(l), fmt.Sprintf("Err() = %v", l.Err())
	})
	if err := l.Err(); !errors.Is(err, backend.ErrLeaseExpired) {
		h.Errorf("Err() after Revoke = %v, want ErrLeaseExpired", err)
	}
}

// testLeaseRevokeEmpty: revoking a lease with no keys writes nothing.
func testLeaseRevokeEmpty(h *harness) {
	h.create("/l/x", "x")
	l := h.lease(30 * time.Second)
	before := h.rev()
	if err := l.Revoke(h.ctx); err != nil {
		h.Fatalf("Revoke: %v", err)
	}
	h.wantRev(before, "after revoking a lease with no keys")
}

// testLeaseRevokedOrUnknown: writing with a revoked lease, or one the
// store never granted, fails with ErrLeaseExpired and writes nothing.
func testLeaseRevokedOrUnknown(h *harness) {
	l := h.lease(30 * time.Second)
	if err := l.Revoke(h.ctx); err != nil {
		h.Fatalf("Revoke: %v", err)
	}
	h.create("/l/existing", "x")
	before := h.rev()
	for _, id := range []backend.LeaseID{l.ID(), backend.LeaseID(0x7eed_5dc0_ffee_0001)} {
		what := fmt.Sprintf("lease %x", int64(id))
		_, err := h.b.Create(h.ctx, "/l/new", "x", id)
		h.wantErr("Create with "+what, err, backend.ErrLeaseExpired, "")
		_, err = h.b.Commit(h.ctx, backend.Txn{Then: []backend.Op{backend.Put("/l/existing", "y", id)}})
		h.wantErr("Commit put with "+what, err, backend.ErrLeaseExpired, "")
	}
	h.wantRev(before, "after writes with dead leases")
	h.missing("/l/new")
	if got := h.value("/l/existing"); got != "x" {
		h.Errorf("/l/existing = %q, want %q", got, "x")
	}
}

// testLeaseKeepAlive: the backend keeps a lease alive well past its TTL.
func testLeaseKeepAlive(h *harness) {
	l := h.lease(time.Second)
	h.createLease("/l/alive", "x", l.ID())
	wait := l.TTL() * 5 / 2
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		<-tick.C
		if _, _, err := h.b.Get(h.ctx, "/l/alive", 0); err != nil {
			h.Fatalf("key of a kept-alive lease (TTL %v) after %v: %v", l.TTL(), wait-time.Until(deadline), err)
		}
	}
	if l.Err() != nil || isDone(l) {
		h.Errorf("kept-alive lease after %v: Err() = %v, Done closed %v; want alive", wait, l.Err(), isDone(l))
	}
}

// testLeaseExpiry: once closed (no longer kept alive) a lease expires on
// its own: its keys are deleted at one revision with delete events.
func testLeaseExpiry(h *harness) {
	l := h.lease(time.Second)
	h.createLease("/l/a", "a", l.ID())
	h.createLease("/l/b", "b", l.ID())
	h.create("/l/free", "f")
	a, b := h.get("/l/a"), h.get("/l/b")
	before := h.rev()
	w := h.watch([]backend.Range{backend.PrefixAt("/l/", 0)}, before+1)

	if err := l.Close(); err != nil {
		h.Fatalf("Lease.Close: %v", err)
	}
	if err := l.Close(); err != nil {
		h.Errorf("second Lease.Close: %v", err)
	}
	h.eventually("Done closed after Close", func() (bool, string) { return isDone(l), "" })
	if l.Err() == nil {
		h.Errorf("Err() after Close = nil, want an error")
	}
	h.eventually("keys of the closed lease deleted", func() (bool, string) {
		kvs := h.list("/l/", backend.ListOptions{}).KVs
		return len(kvs) == 1, fmt.Sprintf("keys %q", paths(kvs))
	})
	r := before + 1
	h.wantRev(r, "after the lease expired with two keys")
	evs := w.sync("events of the expiry", r)
	byPath := map[string]backend.Event{}
	for _, e := range evs {
		byPath[e.KV.Path] = e
	}
	if len(evs) != 2 {
		h.Errorf("expiry: got events %s, want two deletes", fmtEvents(evs))
	}
	h.wantEvents("expiry: event of /l/a", []backend.Event{byPath["/l/a"]}, []backend.Event{deleteEvent(a, r)})
	h.wantEvents("expiry: event of /l/b", []backend.Event{byPath["/l/b"]}, []backend.Event{deleteEvent(b, r)})
	_, err := h.b.Create(h.ctx, "/l/late", "x", l.ID())
	h.wantErr("Create with the expired lease", err, backend.ErrLeaseExpired, "")
}
