package etcd3

import (
	"context"
	"strconv"
	"strings"
	"time"

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

// rangeCount is what a stream knows of the number of keys in each of its
// ranges at one revision, kept from the events it delivers.
type rangeCount struct {
	rev    int64   // 0: unknown
	counts []int64 // by range
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
}

// verifyProgress reports whether a progress notification at rev, on a
// stream that has delivered everything up to delivered, is true: whether
// no event in the stream's ranges lies in (delivered, rev]. It holds when,
// at rev, no key of a range was written after delivered and each range
// holds as many keys as at delivered (then every key is one it held, as it
// was). The count at delivered comes from c, or is read. A write that
// created a key and a later one that deleted it, both in (delivered, rev],
// leave no trace at rev: the stream drops their events if they come after
// the progress (see response). A read that fails (a compacted revision, a
// lost connection) answers false: progress is asked again.
func (s *watchStream) verifyProgress(ctx context.Context, rev, delivered int64) bool {
	c := &s.counts
	if rev <= delivered {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, s.b.cfg.RequestTimeout)
	defer cancel()
	if delivered <= 0 {
		return false
	}
	if c.rev != delivered {
		if *c = s.b.countsAt(ctx, s.ranges, delivered); c.rev == 0 {
			return false
		}
	}
	before := c.counts
	now := make([]int64, len(s.ranges))
	for i, r := range s.ranges {
		n, newest, err := s.b.summary(ctx, r, rev)
		if err != nil || newest > delivered || n != before[i] {
			return false
		}
		now[i] = n
	}
	c.rev, c.counts = rev, now
	return true
}

// countsAt returns the number of keys in each range at rev, or a
// rangeCount of unknown revision if a read fails.
func (b *Backend) countsAt(ctx context.Context, ranges []backend.Range, rev int64) rangeCount {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
	defer cancel()
	c := rangeCount{rev: rev, counts: make([]int64, len(ranges))}
	for i, r := range ranges {
		n, _, err := b.summary(ctx, r, rev)
		if err != nil || rev <= 0 {
			return rangeCount{}
		}
		c.counts[i] = n
	}
	return c
}

// summary returns how many keys of r exist at rev and the newest mod
// revision among them, in one request: sorted by mod revision, etcd
// counts the whole range and returns its newest key alone.
func (b *Backend) summary(ctx context.Context, r backend.Range, rev int64) (count, newest int64, err error) {
	key, prefix := b.ks.of(r)
	opts := []clientv3.OpOption{
		clientv3.WithRev(rev), clientv3.WithKeysOnly(), clientv3.WithLimit(1),
		clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend),
	}
	if prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	resp, err := b.cli.Get(ctx, key, opts...)
	if err != nil {
		return 0, 0, err
	}
	if len(resp.Kvs) > 0 {
		newest = resp.Kvs[0].ModRevision
	}
	return resp.Count, newest, nil
}
