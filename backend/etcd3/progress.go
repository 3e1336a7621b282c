package etcd3

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Servers before the fix of etcd issue 15220 (etcd PR 15237, released in
// 3.4.25 and 3.5.8) answer a progress request on a control channel of
// their own, with the store's current revision, whether or not the watch
// has sent the events up to it: a watch catching up on history gets its
// progress notification before its backlog. On such servers a Backend
// checks each progress notification against the store before delivering
// it (see verifyProgress).

// progressOrdered reports whether an etcd server of version v sends a
// requested progress notification only after the events it covers. An
// unknown version is taken as not.
func progressOrdered(v string) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 3 {
		return false
	}
	var n [3]int
	for i, p := range parts {
		if j := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			p = p[:j] // "0-rc.1"
		}
		x, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		n[i] = x
	}
	major, minor, patch := n[0], n[1], n[2]
	switch {
	case major != 3:
		return major > 3
	case minor < 4:
		return false
	case minor == 4:
		return patch >= 25
	case minor == 5:
		return patch >= 8
	}
	return true
}

// progressRecheck is how long a backend that could not learn every
// member's version waits before it asks again (it verifies progress
// notifications meanwhile, which is always correct).
const progressRecheck = 30 * time.Second

// progressTrusted reports whether every member the backend may talk to
// orders its progress notifications after their events. Config's
// VerifyProgress says no; otherwise the answer is asked of each endpoint
// once (Maintenance Status) and kept. If a member does not answer, the
// backend does not trust progress and asks again after progressRecheck.
func (b *Backend) progressTrusted(ctx context.Context) bool {
	if b.cfg.VerifyProgress {
		return false
	}
	b.mu.Lock()
	known, trusted, asked := b.progressKnown, b.progressOK, b.progressAsked
	b.mu.Unlock()
	if known {
		return trusted
	}
	if !asked.IsZero() && time.Since(asked) < progressRecheck {
		return false
	}
	// Bounded like a dial: a member that is down must not hold up a
	// Watch for a whole request timeout.
	ctx, cancel := context.WithTimeout(ctx, min(b.cfg.DialTimeout, b.cfg.RequestTimeout))
	defer cancel()
	trusted, known = true, true
	for _, ep := range b.cli.Endpoints() {
		st, err := b.cli.Status(ctx, ep)
		if err != nil {
			trusted, known = false, false
			break
		}
		trusted = trusted && progressOrdered(st.Version)
	}
	b.mu.Lock()
	b.progressKnown, b.progressOK, b.progressAsked = known, trusted, time.Now()
	b.mu.Unlock()
	return trusted
}

// rangeCount is what a stream knows of its ranges: the number of keys in
// each at rev, a revision every event up to which it has delivered, and
// clean, the newest revision up to which the store shows no change in the
// ranges since rev.
type rangeCount struct {
	rev    int64   // 0: unknown
	counts []int64 // by range
	clean  int64
}

// track updates the counts with the events of a delivered response.
func (c *rangeCount) track(s *watchStream, resp backend.WatchResponse) {
	if c.rev == 0 {
		return
	}
	for _, ev := range resp.Events {
		d := int64(0)
		switch {
		case ev.Type == backend.EventDelete:
			d = -1
		case ev.KV.CreateRevision == ev.KV.ModRevision:
			d = 1 // the write that created the key
		}
		if d == 0 {
			continue
		}
		for i, r := range s.ranges {
			if r.Contains(ev.KV.Path) {
				c.counts[i] += d
			}
		}
	}
	c.rev = resp.Revision
	c.clean = max(c.clean, c.rev)
}

// verifyProgress reports whether a progress notification at rev, on a
// stream that has delivered everything up to delivered, is true: whether
// no event in the stream's ranges lies in (delivered, rev]. It reads, at
// every revision of that gap, each range's key count and newest mod
// revision: the notification is true when at each of them every range
// holds as many keys as at delivered, none written after delivered. (At
// rev alone a key created and deleted in the gap would leave no trace.)
// The reads are batched into read-only transactions, and a revision found
// clean is not read again. A read that fails (a lost connection) answers
// false: progress is asked again. It fails when the gap has been compacted
// away past rev, or when the counts at delivered are unknown and
// compacted away: no notification can be proven then.
func (s *watchStream) verifyProgress(ctx context.Context, rev, delivered int64) (bool, error) {
	c := &s.counts
	if rev <= delivered {
		return true, nil
	}
	if delivered <= 0 {
		return false, nil
	}
	if len(s.ranges) == 0 {
		return true, nil // nothing to wait for
	}
	ctx, cancel := context.WithTimeout(ctx, s.b.cfg.RequestTimeout)
	defer cancel()
	if c.rev != delivered {
		if s.startCompacted {
			// The stream starts before the compact revision: etcd is
			// to cancel it.
			return false, nil
		}
		counts, err := s.b.countsAt(ctx, s.ranges, delivered)
		if errors.Is(err, rpctypes.ErrCompacted) {
			// A watch from a future revision the store compacted
			// before the stream read its counts there: count from the
			// oldest revision left, as below.
			oldest, err := s.b.oldestRevision(ctx, delivered+1, rev)
			if err != nil {
				return false, compactedOnly(err)
			}
			if counts, err = s.b.countsAt(ctx, s.ranges, oldest); err != nil {
				return false, nil
			}
			counts.rev, counts.clean = delivered, oldest-1
		} else if err != nil {
			return false, nil
		}
		*c = counts
	}
	for c.clean < rev {
		clean, err := s.b.scanClean(ctx, s.ranges, c, min(rev, c.clean+int64(max(s.b.cfg.MaxTxnOps/len(s.ranges), 1))))
		if errors.Is(err, rpctypes.ErrCompacted) {
			// Compacted since the stream's last delivery: check from
			// the oldest revision left, which a key created and
			// deleted before it cannot show (its events, if still to
			// come, are dropped as late; a relist there misses it
			// too).
			oldest, err := s.b.oldestRevision(ctx, c.clean+1, rev)
			if err != nil {
				return false, compactedOnly(err)
			}
			c.clean = oldest - 1
			continue
		}
		if err != nil {
			return false, nil
		}
		if clean == c.clean {
			return false, nil
		}
		c.clean = clean
	}
	c.rev = rev
	return true, nil
}

// compactedOnly returns err if it is etcd's compacted error, else nil.
func compactedOnly(err error) error {
	if errors.Is(err, rpctypes.ErrCompacted) {
		return err
	}
	return nil
}

// oldestRevision returns the oldest revision in [lo, hi] that is not
// compacted, by bisection, or etcd's compacted error if hi is.
func (b *Backend) oldestRevision(ctx context.Context, lo, hi int64) (int64, error) {
	readable := func(rev int64) (bool, error) {
		_, err := b.cli.Get(ctx, b.ks.key("/"), clientv3.WithRev(rev), clientv3.WithCountOnly())
		if errors.Is(err, rpctypes.ErrCompacted) {
			return false, nil
		}
		return err == nil, err
	}
	ok, err := readable(hi)
	if err != nil || !ok {
		return 0, cmp.Or(err, rpctypes.ErrCompacted)
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		ok, err := readable(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi, nil
}

// baseCounts returns the counts a stream from rev+1 starts with, retried
// as reads are, and whether rev is compacted (etcd then cancels the
// watch, or it is from the compact revision: see isCompactRevision). At a
// future rev the counts are unknown, to be read when the store is there.
func (b *Backend) baseCounts(ctx context.Context, ranges []backend.Range, rev int64) (c rangeCount, compacted bool, err error) {
	if rev <= 0 {
		return rangeCount{}, false, nil // a watch from the first revision: counted when needed
	}
	err = b.read(ctx, "count", func(rctx context.Context) error {
		var err error
		c, err = b.countsAt(rctx, ranges, rev)
		return err
	})
	switch {
	case errors.Is(err, backend.ErrCompacted):
		return rangeCount{}, true, nil
	case errors.Is(err, backend.ErrFutureRevision):
		return rangeCount{}, false, nil
	}
	return c, false, err
}

// countsAt returns the number of keys in each range at rev.
func (b *Backend) countsAt(ctx context.Context, ranges []backend.Range, rev int64) (rangeCount, error) {
	c := rangeCount{rev: rev, clean: rev, counts: make([]int64, len(ranges))}
	if rev <= 0 {
		return rangeCount{}, errors.New("no revision to count at")
	}
	resp, err := b.cli.Txn(ctx).Then(b.summaryOps(ranges, rev)...).Commit()
	if err != nil {
		return rangeCount{}, err
	}
	for i, r := range resp.Responses {
		c.counts[i] = r.GetResponseRange().GetCount()
	}
	return c, nil
}

// scanClean reads the ranges at each revision of (c.clean, to] and returns
// the newest revision up to which each range still has c's counts and no
// key written after c.rev.
func (b *Backend) scanClean(ctx context.Context, ranges []backend.Range, c *rangeCount, to int64) (int64, error) {
	var ops []clientv3.Op
	for rev := c.clean + 1; rev <= to; rev++ {
		ops = append(ops, b.summaryOps(ranges, rev)...)
	}
	resp, err := b.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return c.clean, err
	}
	clean := c.clean
	for i, r := range resp.Responses {
		rr := r.GetResponseRange()
		if rr.GetCount() != c.counts[i%len(ranges)] || (len(rr.GetKvs()) > 0 && rr.GetKvs()[0].ModRevision > c.rev) {
			return clean, nil
		}
		if i%len(ranges) == len(ranges)-1 {
			clean++
		}
	}
	return clean, nil
}

// summaryOps returns, for each range, a read at rev of how many keys it
// holds and of its newest: sorted by mod revision, etcd counts the whole
// range and returns its newest key alone.
func (b *Backend) summaryOps(ranges []backend.Range, rev int64) []clientv3.Op {
	ops := make([]clientv3.Op, len(ranges))
	for i, r := range ranges {
		key, prefix := b.ks.of(r)
		opts := []clientv3.OpOption{
			clientv3.WithRev(rev), clientv3.WithKeysOnly(), clientv3.WithLimit(1),
			clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend),
		}
		if prefix {
			opts = append(opts, clientv3.WithPrefix())
		}
		ops[i] = clientv3.OpGet(key, opts...)
	}
	return ops
}
