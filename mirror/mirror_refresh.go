package mirror

import (
	"context"
	"errors"
	"fmt"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdpconfig/sdpconfig/backend"
)

// refresh lists the prefix at one revision and reconciles the state with
// it. If that revision is compacted before the last page is read, it starts
// again at a newer one: the pages already reconciled are then merely
// confirmed.
func (m *Mirror) refresh(ctx context.Context, bo backoff.BackOff) error {
	for {
		err := m.refreshOnce(ctx, bo)
		if !errors.Is(err, backend.ErrCompacted) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// refreshOnce reads the prefix page by page, the first page at the newest
// revision and the others at that same revision, and merges each page with
// the keys held in the same span of paths: Add for a key not held, Change
// for a key whose value or mod revision differs, Delete for a key held but
// not listed, nothing for a key unchanged. Each page is one state file
// transaction; the first removes the cookie (the state is in between two
// revisions until the end) and the last writes the new one.
//
// A store may read each depth separately (etcd does: one range per depth),
// so when there is more than one page, the pages after the first ask only
// for the depths that still hold keys.
//
// Each page records where the refresh has got to in the state file, so
// that a Mirror restarted before the end goes on from there (at the same
// revision, if it is not compacted by then) instead of listing again from
// the start.
func (m *Mirror) refreshOnce(ctx context.Context, bo backoff.BackOff) error {
	var pinned int64
	after := ""
	depths := m.depths
	page := 0
	if r := m.st.resume; r.rev > 0 {
		m.st.resume = listMark{} // once: a compacted revision starts afresh
		pinned, after, page = r.rev, r.after, 1
	}
	for ; ; page++ {
		if page == 1 && len(depths) > 1 {
			var err error
			if depths, err = m.liveDepths(ctx, bo, pinned, after); err != nil {
				return err
			}
		}
		var res backend.ListResult
		err := retry(ctx, bo, func() error {
			var err error
			res, err = m.b.List(ctx, m.prefix, backend.ListOptions{
				Depths:     depths,
				Revision:   pinned,
				WithValues: true,
				After:      after,
				Limit:      m.opts.PageSize,
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("mirror: mirror %q: refresh at revision %d after %q: %w", m.prefix, pinned, after, err)
		}
		if pinned == 0 {
			pinned = res.Revision
		}
		upTo := "" // no upper bound: the last page
		if res.More {
			if len(res.KVs) == 0 {
				return fmt.Errorf("mirror: mirror %q: refresh: backend returned an empty page with more to come", m.prefix)
			}
			upTo = res.KVs[len(res.KVs)-1].Path
		}
		batch, err := m.merge(m.st.between(after, upTo), res.KVs, pinned)
		cookie := keepCookie
		if m.diskCookie != 0 {
			cookie = clearCookie
		}
		if err == nil && !res.More && pinned > 0 {
			cookie = pinned
		}
		mark := listMark{}
		if res.More && err == nil {
			mark = listMark{rev: pinned, after: upTo}
		}
		if werr := m.persistPage(batch, cookie, mark); werr != nil {
			return errors.Join(err, werr)
		}
		if err != nil {
			return err
		}
		if !res.More {
			m.advance(pinned)
			return nil
		}
		after = upTo
	}
}

// merge reconciles the keys held at paths held (sorted) with the listed
// keys of the same span, running the callbacks in path order, and returns
// the changes made. On a callback error it returns the changes made before.
func (m *Mirror) merge(held []string, listed []backend.KeyValue, rev int64) ([]change, error) {
	var batch []change
	i, j := 0, 0
	for i < len(held) || j < len(listed) {
		switch {
		case j == len(listed) || (i < len(held) && held[i] < listed[j].Path):
			path := held[i]
			i++
			old, ok := m.st.get(path)
			if !ok {
				continue
			}
			if err := m.callDelete(old.kv(path), rev); err != nil {
				return batch, err
			}
			m.st.remove(path)
			batch = m.record(batch, change{path: path, del: true})
		case i == len(held) || listed[j].Path < held[i]:
			kv := listed[j]
			j++
			if err := m.callAdd(kv); err != nil {
				return batch, err
			}
			e := entryOf(kv)
			m.st.put(kv.Path, e)
			batch = m.record(batch, change{path: kv.Path, e: e})
		default:
			kv := listed[j]
			i, j = i+1, j+1
			old, ok := m.st.get(kv.Path)
			if ok && old.mod == kv.ModRevision && old.value == kv.Value {
				continue
			}
			var err error
			if ok {
				err = m.callChange(old.kv(kv.Path), kv)
			} else {
				err = m.callAdd(kv)
			}
			if err != nil {
				return batch, err
			}
			e := entryOf(kv)
			m.st.put(kv.Path, e)
			batch = m.record(batch, change{path: kv.Path, e: e})
		}
	}
	return batch, nil
}

// liveDepths returns the depths (relative, as in ListOptions.Depths) that
// hold a key after path after at revision rev: one single-key List per
// depth.
func (m *Mirror) liveDepths(ctx context.Context, bo backoff.BackOff, rev int64, after string) ([]int, error) {
	var live []int
	for _, d := range m.depths {
		var res backend.ListResult
		err := retry(ctx, bo, func() error {
			var err error
			res, err = m.b.List(ctx, m.prefix, backend.ListOptions{Depths: []int{d}, Revision: rev, After: after, Limit: 1})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("mirror: mirror %q: refresh at revision %d after %q: %w", m.prefix, rev, after, err)
		}
		if len(res.KVs) > 0 {
			live = append(live, d)
		}
	}
	if len(live) == 0 {
		// The page before said there was more: list every depth again
		// rather than trust an answer that contradicts it.
		return m.depths, nil
	}
	return live, nil
}
