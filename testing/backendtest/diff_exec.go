package backendtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// sentinels are the errors an outcome names, in the order they are tested.
var sentinels = []struct {
	name string
	err  error
}{
	{"NotFound", backend.ErrNotFound},
	{"Collision", backend.ErrCollision},
	{"Vanished", backend.ErrVanished},
	{"InvalidPath", backend.ErrInvalidPath},
	{"InvalidValue", backend.ErrInvalidValue},
	{"InvalidTxn", backend.ErrInvalidTxn},
	{"Compacted", backend.ErrCompacted},
	{"FutureRevision", backend.ErrFutureRevision},
	{"LeaseExpired", backend.ErrLeaseExpired},
	{"TxnTooLarge", backend.ErrTxnTooLarge},
	{"Indeterminate", backend.ErrIndeterminate},
	{"PermissionDenied", backend.ErrPermissionDenied},
	{"Unavailable", backend.ErrUnavailable},
	{"Closed", backend.ErrClosed},
	{"Canceled", context.Canceled},
	{"DeadlineExceeded", context.DeadlineExceeded},
}

// errName names err by its sentinel, or quotes it whole when it wraps none
// (which no backend may do, so it never matches the other side).
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return fmt.Sprintf("unknown error %q", err)
}

// runner applies steps to one backend and describes each outcome in terms
// that do not depend on the store: revisions relative to the sequence's
// first, leases by number.
type runner struct {
	b       backend.Backend
	ctx     context.Context
	wait    time.Duration // bounds each drain
	base    int64
	leases  map[int]backend.Lease
	ids     map[backend.LeaseID]int
	watches map[int]*diffWatch
	compact int64 // the newest compaction, relative; 0 if none
}

// diffWatch is an open watch of a sequence and the state of its stream.
type diffWatch struct {
	ws    backend.WatchStream
	ended bool
}

func newRunner(ctx context.Context, b backend.Backend, wait time.Duration) (*runner, error) {
	base, err := b.Revision(ctx)
	if err != nil {
		return nil, fmt.Errorf("revision at the start of the sequence: %w", err)
	}
	return &runner{
		b: b, ctx: ctx, wait: wait, base: base,
		leases:  map[int]backend.Lease{},
		ids:     map[backend.LeaseID]int{},
		watches: map[int]*diffWatch{},
	}, nil
}

// close revokes the sequence's leases and closes its watches, so that
// nothing of it writes into the next sequence.
func (r *runner) close() {
	for _, w := range r.watches {
		_ = w.ws.Close()
	}
	for _, l := range r.leases {
		_ = l.Revoke(r.ctx)
		_ = l.Close()
	}
}

// rel returns rev relative to the sequence's first revision.
func (r *runner) rel(rev int64) int64 {
	if rev <= 0 {
		return rev
	}
	return rev - r.base
}

// cur returns the store's current revision, or 0 when it cannot be read.
func (r *runner) cur() int64 {
	rev, err := r.b.Revision(r.ctx)
	if err != nil {
		return 0
	}
	return rev
}

// leaseID returns the ID of lease number n: NoLease for 0, and an ID no
// store has granted for a lease that was never granted.
func (r *runner) leaseID(n int) backend.LeaseID {
	if n == 0 {
		return backend.NoLease
	}
	if l := r.leases[n]; l != nil {
		return l.ID()
	}
	return backend.LeaseID(0x7a000000 + n)
}

// leaseName names id by its lease number.
func (r *runner) leaseName(id backend.LeaseID) string {
	if id == backend.NoLease {
		return "0"
	}
	if n, ok := r.ids[id]; ok {
		return fmt.Sprintf("L%d", n)
	}
	return "L?"
}

// kv describes a key with its revisions relative and its lease by number.
func (r *runner) kv(kv backend.KeyValue) string {
	return fmt.Sprintf("{%s %q c=%d m=%d v=%d l=%s}", kv.Path, kv.Value,
		r.rel(kv.CreateRevision), r.rel(kv.ModRevision), kv.Version, r.leaseName(kv.Lease))
}

// txn returns t with its relative revisions and lease numbers resolved.
func (r *runner) txn(t backend.Txn) backend.Txn {
	out := backend.Txn{
		If:   append([]backend.Compare(nil), t.If...),
		Then: append([]backend.Op(nil), t.Then...),
		Else: append([]backend.Op(nil), t.Else...),
	}
	for i, c := range out.If {
		if c.Target != backend.Version && c.Value > 0 {
			out.If[i].Value = r.base + c.Value
		}
	}
	for _, ops := range [][]backend.Op{out.Then, out.Else} {
		for i := range ops {
			ops[i].Lease = r.leaseID(int(ops[i].Lease))
		}
	}
	return out
}

// apply makes the call s names and describes its outcome.
func (r *runner) apply(s Step) string {
	switch s.Kind {
	case StepGet:
		kv, rev, err := r.b.Get(r.ctx, s.Path, s.Rev.resolve(r.base, r.cur()))
		if err != nil {
			return fmt.Sprintf("rev=%d err=%s", r.rel(rev), errName(err))
		}
		return fmt.Sprintf("%s rev=%d", r.kv(kv), r.rel(rev))
	case StepList:
		opts := s.List
		opts.Revision = s.Rev.resolve(r.base, r.cur())
		res, err := r.b.List(r.ctx, s.Path, opts)
		if err != nil {
			return fmt.Sprintf("err=%s", errName(err))
		}
		kvs := make([]string, len(res.KVs))
		for i, kv := range res.KVs {
			kvs[i] = r.kv(kv)
		}
		return fmt.Sprintf("[%s] rev=%d more=%t", strings.Join(kvs, " "), r.rel(res.Revision), res.More)
	case StepCreate:
		rev, err := r.b.Create(r.ctx, s.Path, s.Value, r.leaseID(s.Lease))
		return fmt.Sprintf("rev=%d err=%s", r.rel(rev), errName(err))
	case StepUpdate:
		rev, err := r.b.Update(r.ctx, s.Path, s.Value)
		return fmt.Sprintf("rev=%d err=%s", r.rel(rev), errName(err))
	case StepDelete:
		res, err := r.b.Delete(r.ctx, s.Path, s.Delete)
		return fmt.Sprintf("rev=%d deleted=%d err=%s", r.rel(res.Revision), res.Deleted, errName(err))
	case StepCommit:
		return r.commit(s)
	case StepRevision:
		rev, err := r.b.Revision(r.ctx)
		return fmt.Sprintf("rev=%d err=%s", r.rel(rev), errName(err))
	case StepCompact:
		rev := s.Rev.resolve(r.base, r.cur())
		err := r.b.Compact(r.ctx, rev)
		if err == nil {
			r.compact = r.rel(rev)
		}
		return "err=" + errName(err)
	case StepGrant:
		return r.grant(s)
	case StepRevoke:
		l := r.leases[s.Lease]
		if l == nil {
			return "no such lease"
		}
		return "err=" + errName(l.Revoke(r.ctx))
	case StepWatch:
		return r.watch(s)
	case StepDrain:
		return r.drain(s.Watch)
	case StepUnwatch:
		w := r.watches[s.Watch]
		if w == nil {
			return "no such watch"
		}
		delete(r.watches, s.Watch)
		return "err=" + errName(w.ws.Close())
	}
	return fmt.Sprintf("unknown step kind %q", s.Kind)
}

// commit makes a Commit, or a CommitRead when the step has reads and the
// backend can.
func (r *runner) commit(s Step) string {
	t := r.txn(s.Txn)
	for i := 0; i < s.Bulk; i++ {
		t.Then = append(t.Then, backend.Put("/bulk/"+strconv.Itoa(i), "x", backend.NoLease))
	}
	if cr, ok := r.b.(backend.CommitReader); ok && s.Reads != nil {
		res, err := cr.CommitRead(r.ctx, t, s.Reads)
		kvs := make([]string, len(res.KVs))
		for i, kv := range res.KVs {
			kvs[i] = r.kv(kv)
		}
		return fmt.Sprintf("ok=%t rev=%d deleted=%d read=%t [%s] err=%s", res.Succeeded,
			r.rel(res.Revision), res.Deleted, res.Read, strings.Join(kvs, " "), errName(err))
	}
	res, err := r.b.Commit(r.ctx, t)
	return fmt.Sprintf("ok=%t rev=%d deleted=%d err=%s", res.Succeeded, r.rel(res.Revision), res.Deleted, errName(err))
}

// grant grants lease number s.Lease.
func (r *runner) grant(s Step) string {
	l, err := r.b.Lease(r.ctx, s.TTL)
	if err != nil {
		return "err=" + errName(err)
	}
	if old := r.leases[s.Lease]; old != nil {
		_ = old.Revoke(r.ctx)
		_ = old.Close()
	}
	r.leases[s.Lease] = l
	r.ids[l.ID()] = s.Lease
	return fmt.Sprintf("ttl=%v", l.TTL())
}

// watch opens watch number s.Watch and drains it, so that it has caught
// up before the next step: how far a lagging watch has got is the store's
// timing, which no sequence can compare.
func (r *runner) watch(s Step) string {
	if old := r.watches[s.Watch]; old != nil {
		_ = old.ws.Close()
		delete(r.watches, s.Watch)
	}
	ws, err := r.b.Watch(r.ctx, s.Ranges, s.Rev.resolve(r.base, r.cur()))
	if err != nil {
		return "err=" + errName(err)
	}
	r.watches[s.Watch] = &diffWatch{ws: ws}
	return r.drain(s.Watch)
}

// drain asks watch number n for progress and describes every event it
// delivers until a progress notification at the current revision or the
// end of the stream. Batching is not compared (stores batch differently),
// nor is a Prev whose revision the store no longer holds (etcd reads it
// when it sends the event, after a compaction or not).
func (r *runner) drain(n int) string {
	w := r.watches[n]
	switch {
	case w == nil:
		return "no such watch"
	case w.ended:
		return "ended"
	}
	target := r.cur()
	var evs []string
	deadline := time.NewTimer(r.wait)
	defer deadline.Stop()
	ask := time.NewTicker(r.wait / 20)
	defer ask.Stop()
	_ = w.ws.RequestProgress(r.ctx)
	for {
		select {
		case resp, ok := <-w.ws.Responses():
			if !ok {
				w.ended = true
				return fmt.Sprintf("[%s] closed", strings.Join(evs, " "))
			}
			for _, ev := range resp.Events {
				evs = append(evs, r.event(ev))
			}
			if resp.Err != nil {
				w.ended = true
				return fmt.Sprintf("[%s] end=%s compact=%d", strings.Join(evs, " "), errName(resp.Err), r.rel(resp.CompactRevision))
			}
			if len(resp.Events) == 0 && resp.Revision >= target {
				return fmt.Sprintf("[%s]", strings.Join(evs, " "))
			}
		case <-ask.C:
			_ = w.ws.RequestProgress(r.ctx)
		case <-deadline.C:
			return fmt.Sprintf("[%s] no progress at revision %d within %v", strings.Join(evs, " "), r.rel(target), r.wait)
		}
	}
}

// event describes one watch event.
func (r *runner) event(ev backend.Event) string {
	var b strings.Builder
	if ev.Type == backend.EventDelete {
		fmt.Fprintf(&b, "DEL%s@%d", ev.KV.Path, r.rel(ev.KV.ModRevision))
	} else {
		fmt.Fprintf(&b, "PUT%s", r.kv(ev.KV))
	}
	if ev.Prev != nil && r.rel(ev.KV.ModRevision)-1 >= r.compact {
		fmt.Fprintf(&b, "<%s", r.kv(*ev.Prev))
	}
	return b.String()
}
