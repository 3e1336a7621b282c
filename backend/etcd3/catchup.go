package etcd3

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

// catchUp replays the history of a watch from a past revision on a server
// that answers progress ahead of its events (see verifyProgress), and
// returns the responses of the live watch wch read meanwhile, the revision
// up to which every event has been delivered, and the last response when
// the stream ended.
//
// Such a server counts a watch from a past revision as catching up until
// it syncs it (every 100 ms), and cancels it if the store compacts past
// its start before then, even once the stream has proven (and delivered)
// that it has caught up. So the stream's own etcd watch starts at the
// server's current revision, where it is in sync at once (it is created
// with a notification that names that revision, R), and the history from
// fromRev to R is replayed on a second watch only if the store shows a
// change in the ranges there, until that watch has sent its events up to
// R. Events of the live watch wait until then.
func (s *watchStream) catchUp(live clientv3.WatchChan) (pre []clientv3.WatchResponse, delivered int64, ended *backend.WatchResponse) {
	if s.replayFrom == 0 {
		return nil, 0, nil
	}
	// The live watch's creation names the revision it starts after.
	var created int64
	for created == 0 {
		select {
		case wr, ok := <-live:
			switch {
			case !ok:
				r := s.end(nil)
				return nil, 0, &r
			case wr.Canceled || wr.Err() != nil:
				r := s.end(fmt.Errorf("watch canceled by etcd: %w", wr.Err()))
				return nil, 0, &r
			case !wr.Created:
				// Only the creation notice may come first: without it
				// the start of the live watch is unknown.
				r := s.end(fmt.Errorf("watch: etcd sent no creation notice"))
				return nil, 0, &r
			}
			created = wr.Header.GetRevision()
		case <-s.stopCh:
			r := s.end(nil)
			return nil, 0, &r
		}
	}
	from := s.replayFrom
	if created < from {
		return nil, 0, nil // nothing before the start: pump drops what is
	}
	if s.cleanUpTo(created) {
		s.counts.rev = created
		return nil, created, nil
	}
	rctx, cancel := context.WithCancel(s.wctx)
	defer cancel()
	history := s.b.watcher.Watch(rctx, s.key, append(s.opts, clientv3.WithRev(from))...)
	for {
		select {
		case wr, ok := <-history:
			switch {
			case !ok:
				r := s.end(nil)
				return nil, 0, &r
			case wr.CompactRevision != 0:
				r := compactedResponse(wr)
				return nil, 0, &r
			case wr.Canceled || wr.Err() != nil:
				r := s.end(fmt.Errorf("watch canceled by etcd: %w", wr.Err()))
				return nil, 0, &r
			case wr.IsProgressNotify() || wr.Created:
				continue
			}
			done := replayedUpTo(wr) >= created
			resp, some := s.response(wr, delivered)
			resp.Events = upTo(resp.Events, created)
			resp.Revision = min(resp.Revision, created)
			if done {
				resp.Revision = created
			}
			if some && len(resp.Events) > 0 || done {
				select {
				case s.out <- resp:
					delivered = max(delivered, resp.Revision)
					s.counts.track(s, resp)
				case <-s.stopCh:
					r := s.end(nil)
					return nil, 0, &r
				}
			}
			if done {
				return pre, delivered, nil
			}
		case wr, ok := <-live:
			pre = append(pre, wr)
			if !ok {
				return pre, delivered, nil
			}
		case <-s.stopCh:
			r := s.end(nil)
			return nil, 0, &r
		}
	}
}

// cleanUpTo reports whether the store shows no change in the stream's
// ranges from its start to rev (see verifyProgress), so that there is no
// history to replay.
func (s *watchStream) cleanUpTo(rev int64) bool {
	ok, err := s.verifyProgress(s.wctx, rev, s.replayFrom-1)
	return ok && err == nil
}

// replayedUpTo returns the revision up to which a history response has
// brought the watch: its header's, or for a full batch of history (more
// may follow) its last event's.
func replayedUpTo(wr clientv3.WatchResponse) int64 {
	revs, prev := 0, int64(0)
	for _, ev := range wr.Events {
		if ev.Kv.ModRevision != prev {
			revs++
			prev = ev.Kv.ModRevision
		}
	}
	if revs >= etcdWatchBatchMaxRevs {
		return prev
	}
	return wr.Header.GetRevision()
}

// upTo returns the events of evs at revisions up to rev.
func upTo(evs []backend.Event, rev int64) []backend.Event {
	out := evs[:0]
	for _, e := range evs {
		if e.KV.ModRevision <= rev {
			out = append(out, e)
		}
	}
	return out
}
