package mirror

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdpconfig/sdpconfig/backend"
)

// errDone ends a RefreshOnly follow once it has caught up.
var errDone = errors.New("mirror: mirror caught up")

// Run brings the mirror up to date, calls RefreshDone, and in
// RefreshAndPersist mode follows the store's changes until Stop is called
// or ctx ends. It resumes from the state file's cookie when there is one
// (no relist); otherwise, or when the store has compacted the history after
// the cookie, it refreshes: lists the prefix page by page at one revision
// and reconciles with what the mirror holds. A cut watch stream resumes
// after the last revision applied; unavailable stores are retried with
// backoff until ctx ends.
//
// Run returns nil when a RefreshOnly mirror is done or after Stop; ctx's
// error when ctx ends; a *CallbackError when a callback fails (even during
// a Stop); an error wrapping backend.ErrClosed when the backend closes. It
// releases the state file before returning. Run may be called once.
func (m *Mirror) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return ErrMirrorRan
	}
	m.started = true
	if m.stopped {
		m.mu.Unlock()
		return nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	m.mu.Unlock()

	err := m.run(runCtx)
	interrupted := runCtx.Err() != nil
	cancel()
	var cbErr *CallbackError
	if err != nil && interrupted && !errors.As(err, &cbErr) {
		// The error is the interruption's: a backend call or the stream
		// ended with the context.
		m.mu.Lock()
		stopped := m.stopped
		m.mu.Unlock()
		switch {
		case stopped:
			err = nil
		case ctx.Err() != nil:
			err = ctx.Err()
		}
	}
	return m.finish(err)
}

func (m *Mirror) run(ctx context.Context) error {
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(m.opts.RetryInterval),
		backoff.WithMaxInterval(m.opts.MaxRetry),
		backoff.WithMaxElapsedTime(0), // retry until ctx ends
	)
	// With a cookie, the state is the store's at that revision: resume the
	// watch after it. Without one, refresh.
	refresh := m.st.revision() == 0
	caughtUp, relist := false, false
	for {
		if refresh {
			// A refresh the state file says was under way goes on at the
			// revision it listed at: the changes since then follow, and
			// RefreshDone waits for them.
			resumed := m.st.resume.rev > 0
			if err := m.refresh(ctx, bo); err != nil {
				return err
			}
			m.met.refreshed(relist, m.st.revision())
			m.log.Info("mirror refreshed", "prefix", m.prefix, "revision", m.st.revision(), "relist", relist)
			relist = false
			refresh = false
			if !resumed {
				caughtUp = true
				if err := m.callRefreshDone(); err != nil {
					return err
				}
				if m.opts.Mode == RefreshOnly {
					return nil
				}
			}
		}
		err := m.follow(ctx, &caughtUp, bo)
		switch {
		case errors.Is(err, errDone):
			return nil
		case errors.Is(err, backend.ErrCompacted):
			refresh, relist = true, true
			m.log.Info("mirror relisting: the history after its revision was compacted", "prefix", m.prefix, "revision", m.st.revision())
		case errors.Is(err, backend.ErrUnavailable):
			m.log.Debug("mirror retrying: store unavailable", "prefix", m.prefix, "revision", m.st.revision(), "err", err)
			if err := wait(ctx, bo); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// wait sleeps for bo's next interval or until ctx ends.
func wait(ctx context.Context, bo backoff.BackOff) error {
	t := time.NewTimer(bo.NextBackOff())
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retry calls fn until it does not fail with ErrUnavailable, waiting with
// bo in between.
func retry(ctx context.Context, bo backoff.BackOff, fn func() error) error {
	for {
		err := fn()
		if !errors.Is(err, backend.ErrUnavailable) {
			if err == nil {
				bo.Reset()
			}
			return err
		}
		if err := wait(ctx, bo); err != nil {
			return err
		}
	}
}

// follow watches the prefix from the revision after the state's and
// applies each response. Until caughtUp, it asks for progress and calls
// RefreshDone when the state reaches the store's revision at the start (a
// RefreshOnly mirror then returns errDone). It returns the error that ended
// the stream.
func (m *Mirror) follow(ctx context.Context, caughtUp *bool, bo backoff.BackOff) error {
	from := m.st.revision() + 1
	stream, err := m.b.Watch(ctx, m.ranges, from)
	if err != nil {
		return fmt.Errorf("mirror: mirror %q: watch from revision %d: %w", m.prefix, from, err)
	}
	defer stream.Close()

	var target int64
	if !*caughtUp {
		if target, err = m.b.Revision(ctx); err != nil {
			return fmt.Errorf("mirror: mirror %q: %w", m.prefix, err)
		}
		if target < m.st.revision() {
			// A store behind the cookie is not the one the state came
			// from: its history after the cookie is as good as compacted.
			return fmt.Errorf("mirror: mirror %q: store revision %d is behind the state's %d: %w",
				m.prefix, target, m.st.revision(), backend.ErrCompacted)
		}
		if done, err := m.checkCaughtUp(caughtUp, target); done || err != nil {
			return err
		}
	}

	needProgress := func() bool { return !*caughtUp || m.wantedRevision() > m.st.revision() }
	requestProgress := func() {
		if needProgress() {
			// A failed request shows up as the stream's end; the ticker
			// asks again meanwhile.
			_ = stream.RequestProgress(ctx)
		}
	}
	requestProgress()
	ticker := time.NewTicker(progressRetry)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.progress:
			requestProgress()
		case <-ticker.C:
			requestProgress()
		case resp, ok := <-stream.Responses():
			if !ok {
				return fmt.Errorf("mirror: mirror %q: watch stream closed: %w", m.prefix, backend.ErrUnavailable)
			}
			if resp.Err != nil {
				return fmt.Errorf("mirror: mirror %q: watch after revision %d: %w", m.prefix, m.st.revision(), resp.Err)
			}
			bo.Reset()
			if err := m.apply(resp); err != nil {
				return err
			}
			if !*caughtUp {
				if done, err := m.checkCaughtUp(caughtUp, target); done || err != nil {
					return err
				}
			}
		}
	}
}

// checkCaughtUp calls RefreshDone once the state has reached target. It
// reports whether follow must return (with the error it returns).
func (m *Mirror) checkCaughtUp(caughtUp *bool, target int64) (bool, error) {
	if m.st.revision() < target {
		return false, nil
	}
	*caughtUp = true
	if err := m.callRefreshDone(); err != nil {
		return true, err
	}
	if m.opts.Mode == RefreshOnly {
		return true, errDone
	}
	return false, nil
}

// apply runs the callbacks of a watch response's events, updates the state
// and writes it with the response's revision as cookie, in one state file
// transaction. When a callback fails, the changes before it are written
// with the revision before the failed change's as cookie; the failed change
// is not recorded.
func (m *Mirror) apply(resp backend.WatchResponse) error {
	applied := m.st.revision()
	var batch []change
	for _, ev := range resp.Events {
		if err := m.applyEvent(ev, &batch); err != nil {
			// Record the changes made so far, with the last complete
			// revision as cookie: a restart resumes at the failed change's
			// revision, skips the changes of it already recorded, and
			// delivers the failed one again.
			rev := ev.KV.ModRevision - 1
			if werr := m.persist(batch, m.cookieFor(rev)); werr != nil {
				return errors.Join(err, werr)
			}
			if rev > applied {
				m.advance(rev)
			}
			return err
		}
	}
	rev := resp.Revision
	if n := len(resp.Events); n > 0 && resp.Events[n-1].KV.ModRevision > rev {
		rev = resp.Events[n-1].KV.ModRevision
	}
	if err := m.persist(batch, m.cookieFor(rev)); err != nil {
		return err
	}
	if rev > applied {
		m.advance(rev)
	}
	m.met.applied(len(resp.Events), m.st.revision(), resp.Revision)
	return nil
}

// cookieFor returns the cookie operation that records rev.
func (m *Mirror) cookieFor(rev int64) int64 {
	if rev > m.diskCookie {
		return rev
	}
	return keepCookie
}

// applyEvent runs the callback of one event and applies it to the state.
// An event the state already reflects (a put not newer than the key held, a
// delete of a key not held) is skipped: after a failed callback, the state
// file holds the changes of the failed change's revision that came before
// it, and a restart resumes at that revision.
func (m *Mirror) applyEvent(ev backend.Event, batch *[]change) error {
	path := ev.KV.Path
	old, held := m.st.get(path)
	switch ev.Type {
	case backend.EventPut:
		if held && old.mod >= ev.KV.ModRevision {
			return nil
		}
		var err error
		if held {
			err = m.callChange(old.kv(path), ev.KV)
		} else {
			err = m.callAdd(ev.KV)
		}
		if err != nil {
			return err
		}
		e := entryOf(ev.KV)
		m.st.put(path, e)
		*batch = m.record(*batch, change{path: path, e: e})
	case backend.EventDelete:
		if !held {
			return nil
		}
		if err := m.callDelete(old.kv(path), ev.KV.ModRevision); err != nil {
			return err
		}
		m.st.remove(path)
		*batch = m.record(*batch, change{path: path, del: true})
	default:
		return fmt.Errorf("mirror: mirror %q: event of unknown type %v for %q", m.prefix, ev.Type, path)
	}
	return nil
}

// record appends c to batch when there is a state file to write it to.
func (m *Mirror) record(batch []change, c change) []change {
	if m.file == nil {
		return batch
	}
	return append(batch, c)
}

// persist writes batch and the cookie operation to the state file, if
// there is one.
func (m *Mirror) persist(batch []change, cookie int64) error {
	return m.persistPage(batch, cookie, listMark{})
}

// persistPage is persist recording a refresh's progress too.
func (m *Mirror) persistPage(batch []change, cookie int64, mark listMark) error {
	if m.file == nil {
		return nil
	}
	start := time.Now()
	if err := m.file.commit(batch, cookie, mark); err != nil {
		return err
	}
	m.met.wrote(start)
	switch {
	case cookie == clearCookie:
		m.diskCookie = 0
	case cookie > 0:
		m.diskCookie = cookie
	}
	return nil
}
