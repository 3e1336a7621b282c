package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/mirror"
)

// deepPath returns "/pb" followed by n segments "/s": a key at depth n+1.
func deepPath(n int) string { return "/pb" + strings.Repeat("/s", n) }

func TestMirrorRefreshOnly(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		deepest := deepPath(backend.Depth("/pb/") + backend.MaxDepth - 2) // depth 17: the last level covered
		// /pb/0/y/z is the only key at its depth and comes first: the pages
		// after the first need not ask for that depth.
		for _, p := range []string{"/pb/a", "/pb/b/c", "/pb/b", "/pb/z/y/x/w", "/pbx", "/pa", "/pb/d", "/p", deepest, deepest + "/s", "/pb/0/y/z"} {
			put(t, s, p, "v"+p)
		}
		rev, err := s.Revision(ctx)
		assert.NilError(t, err)

		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{Mode: mirror.RefreshOnly, PageSize: 2})
		assert.NilError(t, err)
		assert.NilError(t, runToEnd(t, ctx, m))

		want := []string{"/pb/0/y/z", "/pb/a", "/pb/b", "/pb/b/c", "/pb/d", deepest, "/pb/z/y/x/w"}
		var wantLines, wantKVs []string
		for _, p := range want {
			wantLines = append(wantLines, "add "+p+"=v"+p)
			wantKVs = append(wantKVs, p+"=v"+p)
		}
		wantLines = append(wantLines, "done 7")
		assert.DeepEqual(t, rec.Lines(), wantLines)

		assert.Equal(t, len(rec.views), 1)
		v := rec.views[0]
		assert.Equal(t, v.Revision(), rev)
		assert.Equal(t, v.Len(), 7)
		assert.DeepEqual(t, viewLines(v), wantKVs)
		kv, ok := v.Get("/pb/b/c")
		assert.Assert(t, ok)
		assert.Equal(t, kv.Value, "v/pb/b/c")
		assert.Equal(t, kv.Version, int64(1))
		assert.Equal(t, kv.CreateRevision, kv.ModRevision)
		assert.DeepEqual(t, rec.revs["/pb/b/c"], []int64{kv.ModRevision})
		_, ok = v.Get("/pbx")
		assert.Assert(t, !ok)

		// The view outlives Run, and m.View() is the same state.
		assert.DeepEqual(t, viewLines(m.View()), wantKVs)
	})
}

func TestMirrorPrefixMidSegment(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		for _, p := range []string{"/pb", "/pbx", "/pb/a", "/pa", "/pc"} {
			put(t, s, p, "1")
		}
		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb", rec, mirror.MirrorOptions{Mode: mirror.RefreshOnly})
		assert.NilError(t, err)
		assert.NilError(t, runToEnd(t, context.Background(), m))
		assert.DeepEqual(t, rec.Lines(), []string{"add /pb=1", "add /pb/a=1", "add /pbx=1", "done 3"})
	})
}

func TestNewMirrorRejectsBadInput(t *testing.T) {
	s := openMemory(t)
	_, err := mirror.NewMirror(s, "pb/", nil, mirror.MirrorOptions{})
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
	_, err = mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{Mode: 7})
	assert.ErrorContains(t, err, "unknown mode")
}

func TestMirrorPersistFollowsChanges(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		r0 := put(t, s, "/pb/a", "1")
		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{})
		assert.NilError(t, err)
		stop, _ := run(t, ctx, m)
		assert.DeepEqual(t, waitLines(t, rec, 2), []string{"add /pb/a=1", "done 1"})

		put(t, s, "/pb/b", "2")
		r2 := put(t, s, "/pb/a", "1b")
		del(t, s, "/pb/a")
		l, err := s.Lease(ctx, time.Second)
		assert.NilError(t, err)
		_, err = s.Create(ctx, "/pb/l", "leased", l.ID())
		assert.NilError(t, err)
		assert.NilError(t, m.WaitForRevision(ctx, put(t, s, "/pbx", "outside")))
		s.expire(t, l)
		last := put(t, s, "/pb/c", "3")
		assert.NilError(t, m.WaitForRevision(ctx, last))

		assert.DeepEqual(t, rec.Lines(), []string{
			"add /pb/a=1", "done 1",
			"add /pb/b=2",
			"change /pb/a 1->1b",
			"delete /pb/a=1b",
			"add /pb/l=leased",
			"delete /pb/l=leased",
			"add /pb/c=3",
		})
		assert.DeepEqual(t, rec.revs["/pb/a"], []int64{r0, r2})
		v := m.View()
		assert.Assert(t, v.Revision() >= last)
		assert.DeepEqual(t, viewLines(v), storeLines(t, s, "/pb/"))
		c, ok := v.Get("/pb/c")
		assert.Assert(t, ok)
		assert.Equal(t, c.ModRevision, last)
		assert.NilError(t, stop())
	})
}

func TestMirrorChangeCarriesOldAndNew(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	r1 := put(t, s, "/pb/a", "1")
	type change struct{ old, new backend.KeyValue }
	var mu sync.Mutex
	var got []change
	h := mirror.HandlerFuncs{ChangeFunc: func(old, new backend.KeyValue) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, change{old, new})
		return nil
	}}
	m, err := mirror.NewMirror(s, "/pb/", h, mirror.MirrorOptions{})
	assert.NilError(t, err)
	stop, _ := run(t, ctx, m)
	assert.NilError(t, m.WaitForRevision(ctx, r1))
	r2 := put(t, s, "/pb/a", "2")
	assert.NilError(t, m.WaitForRevision(ctx, r2))
	assert.NilError(t, stop())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, len(got), 1)
	assert.DeepEqual(t, got[0].old, backend.KeyValue{Path: "/pb/a", Value: "1", CreateRevision: r1, ModRevision: r1, Version: 1})
	assert.DeepEqual(t, got[0].new, backend.KeyValue{Path: "/pb/a", Value: "2", CreateRevision: r1, ModRevision: r2, Version: 2})
}

func TestMirrorWaitForRevision(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{})
		assert.NilError(t, err)

		// A wait that starts before Run ends once Run gets there.
		first := put(t, s, "/pb/first", "1")
		early := make(chan error, 1)
		go func() { early <- m.WaitForRevision(ctx, first) }()
		stop, _ := run(t, ctx, m)
		assert.NilError(t, <-early)

		// A write outside the prefix sends no event: the wait needs a
		// progress notification.
		outside := put(t, s, "/other/x", "1")
		assert.NilError(t, m.WaitForRevision(ctx, outside))
		assert.Assert(t, m.View().Revision() >= outside)

		// Read your writes.
		for i := 0; i < 20; i++ {
			p := fmt.Sprintf("/pb/k%02d", i)
			r := put(t, s, p, "v")
			assert.NilError(t, m.WaitForRevision(ctx, r))
			_, ok := m.View().Get(p)
			assert.Assert(t, ok, "%s not in the view after WaitForRevision(%d)", p, r)
		}

		// A revision not written yet: the wait ends with ctx.
		cur, err := s.Revision(ctx)
		assert.NilError(t, err)
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err = m.WaitForRevision(short, cur+100)
		cancel()
		assert.Assert(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

		assert.NilError(t, stop())
		err = m.WaitForRevision(ctx, cur+100)
		assert.Assert(t, errors.Is(err, mirror.ErrMirrorStopped), "%v", err)
		assert.NilError(t, m.WaitForRevision(ctx, cur), "a reached revision stays reached")
	})
}

func TestMirrorStop(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()

	t.Run("before Run", func(t *testing.T) {
		m, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: t.TempDir() + "/state"})
		assert.NilError(t, err)
		m.Stop()
		m.Stop()
		assert.NilError(t, m.Run(ctx))
		assert.Assert(t, errors.Is(m.WaitForRevision(ctx, 1000), mirror.ErrMirrorStopped))
	})

	t.Run("concurrently, many times", func(t *testing.T) {
		m, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{})
		assert.NilError(t, err)
		_, wait := run(t, ctx, m)
		assert.NilError(t, m.WaitForRevision(ctx, put(t, s, "/pb/x", "1")))
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.Stop()
			}()
		}
		wg.Wait()
		assert.NilError(t, wait())
		m.Stop()
	})

	t.Run("Run twice", func(t *testing.T) {
		m, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{Mode: mirror.RefreshOnly})
		assert.NilError(t, err)
		assert.NilError(t, m.Run(ctx))
		assert.Assert(t, errors.Is(m.Run(ctx), mirror.ErrMirrorRan))
	})

	t.Run("ctx cancelled", func(t *testing.T) {
		m, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{})
		assert.NilError(t, err)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- m.Run(cctx) }()
		assert.NilError(t, m.WaitForRevision(ctx, put(t, s, "/pb/y", "1")))
		cancel()
		assert.Assert(t, errors.Is(<-done, context.Canceled))
	})
}

func TestMirrorBackendClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		m, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: t.TempDir() + "/state"})
		assert.NilError(t, err)
		_, wait := run(t, ctx, m)
		assert.NilError(t, m.WaitForRevision(ctx, put(t, s, "/pb/x", "1")))
		assert.NilError(t, s.Close())
		err = wait()
		assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
		assert.Assert(t, is.Contains(err.Error(), `"/pb/"`))
	})
}

func TestMirrorBackendClosedBeforeRun(t *testing.T) {
	s := openMemory(t)
	assert.NilError(t, s.Close())
	m, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{})
	assert.NilError(t, err)
	err = m.Run(context.Background())
	assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
}

func TestMirrorDropWatches(t *testing.T) {
	for _, withState := range []bool{false, true} {
		t.Run(fmt.Sprintf("state=%v", withState), func(t *testing.T) {
			s := openMemory(t)
			ctx := context.Background()
			opts := mirror.MirrorOptions{RetryInterval: time.Millisecond, MaxRetry: 5 * time.Millisecond}
			if withState {
				opts.StatePath = t.TempDir() + "/state"
			}
			rec := newRecorder()
			c := &counting{Backend: s}
			m, err := mirror.NewMirror(c, "/pb/", rec, opts)
			assert.NilError(t, err)
			stop, _ := run(t, ctx, m)
			waitLines(t, rec, 1)

			// Drop the streams over and over while writes flow, some of
			// them while the mirror is between streams.
			const n = 300
			writerDone := make(chan struct{})
			var dropper sync.WaitGroup
			dropper.Add(1)
			go func() {
				defer dropper.Done()
				for {
					select {
					case <-writerDone:
						return
					default:
						s.drop()
						time.Sleep(time.Millisecond)
					}
				}
			}()
			want := []string{"done 0"}
			var last int64
			for i := 0; i < n; i++ {
				p := fmt.Sprintf("/pb/k%03d", i)
				last = put(t, s, p, "v")
				want = append(want, "add "+p+"=v")
				if i%3 == 2 {
					last = put(t, s, p, "w")
					want = append(want, "change "+p+" v->w")
				}
				if i%50 == 49 {
					s.drop()
				}
			}
			close(writerDone)
			dropper.Wait()
			assert.NilError(t, m.WaitForRevision(ctx, last))
			assert.DeepEqual(t, rec.Lines(), want)
			assert.Equal(t, c.lists.Load(), int64(1), "a dropped stream resumes without a relist")
			assert.Assert(t, c.watches.Load() > 1, "the streams were never dropped")
			assert.NilError(t, stop())
		})
	}
}

func TestMirrorCompactedDuringRefresh(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		for i := 0; i < 6; i++ {
			put(t, s, fmt.Sprintf("/pb/k%d", i), "v")
		}
		c := &counting{Backend: s}
		c.afterList = func(n int64) {
			if n != 1 {
				return
			}
			// After the first page: change a key of that page and one of
			// a later page, and compact away the pinned revision.
			put(t, s, "/pb/k0", "new")
			r := put(t, s, "/pb/k4", "new")
			assert.NilError(t, s.Compact(ctx, r))
		}
		rec := newRecorder()
		m, err := mirror.NewMirror(c, "/pb/", rec, mirror.MirrorOptions{Mode: mirror.RefreshOnly, PageSize: 2})
		assert.NilError(t, err)
		assert.NilError(t, runToEnd(t, ctx, m))
		assert.DeepEqual(t, rec.Lines(), []string{
			"add /pb/k0=v", "add /pb/k1=v",
			"change /pb/k0 v->new",
			"add /pb/k2=v", "add /pb/k3=v", "add /pb/k4=new", "add /pb/k5=v",
			"done 6",
		})
		assert.DeepEqual(t, viewLines(m.View()), storeLines(t, s, "/pb/"))
	})
}

func TestMirrorCompactedWhileFollowing(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	put(t, s, "/pb/a", "1")
	put(t, s, "/pb/b", "1")
	put(t, s, "/pb/f", "1")
	rec := newRecorder()
	blocked := make(chan struct{})
	release := make(chan struct{})
	rec.fail = func(line string) error {
		if line == "add /pb/c=1" {
			close(blocked)
			<-release
		}
		return nil
	}
	c := &counting{Backend: s}
	m, err := mirror.NewMirror(c, "/pb/", rec, mirror.MirrorOptions{RetryInterval: time.Millisecond})
	assert.NilError(t, err)
	stop, _ := run(t, ctx, m)
	waitLines(t, rec, 4)

	// While the mirror is stuck in a callback, change the store, compact
	// its history and cut the stream: the mirror resumes after /pb/c, finds
	// that revision compacted, and refreshes.
	put(t, s, "/pb/c", "1")
	<-blocked
	del(t, s, "/pb/a")
	put(t, s, "/pb/b", "2")
	put(t, s, "/pb/d", "1")
	put(t, s, "/pb/g", "1")
	del(t, s, "/pb/g")
	r := put(t, s, "/pb/e", "1")
	assert.NilError(t, s.Compact(ctx, r))
	s.drop()
	close(release)
	assert.NilError(t, m.WaitForRevision(ctx, r))
	assert.DeepEqual(t, waitLines(t, rec, 10), []string{
		"add /pb/a=1", "add /pb/b=1", "add /pb/f=1", "done 3",
		"add /pb/c=1",
		"delete /pb/a=1", "change /pb/b 1->2", "add /pb/d=1", "add /pb/e=1",
		"done 5",
	})
	assert.DeepEqual(t, viewLines(m.View()), storeLines(t, s, "/pb/"))
	assert.Equal(t, c.lists.Load(), int64(2))
	assert.NilError(t, stop())
}
