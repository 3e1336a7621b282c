package mirror_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// runPersist runs a RefreshAndPersist mirror of /pb/ with a state file
// until it has applied the store's current revision, then stops it.
func runPersist(t *testing.T, b backend.Backend, path string, rec *recorder) {
	t.Helper()
	ctx := context.Background()
	m, err := mirror.NewMirror(b, "/pb/", rec, mirror.MirrorOptions{StatePath: path})
	assert.NilError(t, err)
	stop, _ := run(t, ctx, m)
	rev, err := b.Revision(ctx)
	assert.NilError(t, err)
	assert.NilError(t, m.WaitForRevision(ctx, rev))
	assert.NilError(t, stop())
}

func TestMirrorRestartResumesWithoutRelist(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		state := filepath.Join(t.TempDir(), "mirror.db")
		put(t, s, "/pb/a", "1")
		put(t, s, "/pb/b", "1")
		put(t, s, "/pb/c", "1")

		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{StatePath: state})
		assert.NilError(t, err)
		stop, _ := run(t, ctx, m)
		waitLines(t, rec, 4)
		assert.NilError(t, m.WaitForRevision(ctx, put(t, s, "/pb/d", "1")))
		assert.NilError(t, stop())
		assert.DeepEqual(t, rec.Lines(), []string{"add /pb/a=1", "add /pb/b=1", "add /pb/c=1", "done 3", "add /pb/d=1"})

		// Changes while the mirror is down.
		put(t, s, "/pb/a", "2")
		del(t, s, "/pb/b")
		put(t, s, "/pb/e", "1")
		put(t, s, "/pb/f", "1")
		del(t, s, "/pb/f")
		put(t, s, "/other", "1")

		c := &counting{Backend: s}
		rec2 := newRecorder()
		m2, err := mirror.NewMirror(c, "/pb/", rec2, mirror.MirrorOptions{StatePath: state})
		assert.NilError(t, err)
		// The state is loaded before Run.
		assert.DeepEqual(t, viewLines(m2.View()), []string{"/pb/a=1", "/pb/b=1", "/pb/c=1", "/pb/d=1"})
		stop2, _ := run(t, ctx, m2)
		assert.DeepEqual(t, waitLines(t, rec2, 6), []string{
			"change /pb/a 1->2", "delete /pb/b=1", "add /pb/e=1", "add /pb/f=1", "delete /pb/f=1",
			"done 4",
		})
		assert.DeepEqual(t, viewLines(m2.View()), storeLines(t, s, "/pb/"))
		assert.NilError(t, m2.WaitForRevision(ctx, put(t, s, "/pb/g", "1")))
		assert.NilError(t, stop2())
		assert.Equal(t, c.lists.Load(), int64(0), "a restart from a state file must not list")
		assert.DeepEqual(t, rec2.Lines()[6:], []string{"add /pb/g=1"})

		// Nothing changed since: a RefreshOnly restart only says done.
		rec3 := newRecorder()
		m3, err := mirror.NewMirror(c, "/pb/", rec3, mirror.MirrorOptions{StatePath: state, Mode: mirror.RefreshOnly})
		assert.NilError(t, err)
		assert.NilError(t, runToEnd(t, ctx, m3))
		assert.DeepEqual(t, rec3.Lines(), []string{"done 5"})
		assert.Equal(t, c.lists.Load(), int64(0))
		assert.Equal(t, len(rec3.views), 1)
		assert.DeepEqual(t, viewLines(rec3.views[0]), storeLines(t, s, "/pb/"))
	})
}

func TestMirrorCompactedCookieReconciles(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		state := filepath.Join(t.TempDir(), "mirror.db")
		for _, p := range []string{"/pb/a", "/pb/b", "/pb/c", "/pb/d", "/pb/h/deep"} {
			put(t, s, p, "1")
		}
		rec := newRecorder()
		runPersist(t, s, state, rec)
		assert.Equal(t, len(rec.Lines()), 6)

		// While the mirror is down: a changes, b goes, c stays, d is
		// rewritten with the same value, e is new, f comes and goes, the
		// deep key changes; then the history is compacted.
		put(t, s, "/pb/a", "2")
		del(t, s, "/pb/b")
		put(t, s, "/pb/d", "1")
		put(t, s, "/pb/e", "1")
		put(t, s, "/pb/f", "1")
		del(t, s, "/pb/f")
		put(t, s, "/pb/h/deep", "2")
		rev := put(t, s, "/other", "x")
		assert.NilError(t, s.Compact(ctx, rev))

		c := &counting{Backend: s}
		rec2 := newRecorder()
		m, err := mirror.NewMirror(c, "/pb/", rec2, mirror.MirrorOptions{StatePath: state})
		assert.NilError(t, err)
		stop, _ := run(t, ctx, m)
		assert.DeepEqual(t, waitLines(t, rec2, 6), []string{
			"change /pb/a 1->2", "delete /pb/b=1", "change /pb/d 1->1", "add /pb/e=1", "change /pb/h/deep 1->2",
			"done 5",
		})
		assert.Equal(t, c.lists.Load(), int64(1))
		assert.Equal(t, m.View().Revision(), rev)
		assert.DeepEqual(t, viewLines(m.View()), storeLines(t, s, "/pb/"))
		assert.NilError(t, m.WaitForRevision(ctx, put(t, s, "/pb/g", "1")))
		assert.NilError(t, stop())
		assert.DeepEqual(t, rec2.Lines()[6:], []string{"add /pb/g=1"})

		// The reconciliation left a valid cookie: no list on the next start.
		rec3 := newRecorder()
		m3, err := mirror.NewMirror(c, "/pb/", rec3, mirror.MirrorOptions{StatePath: state, Mode: mirror.RefreshOnly})
		assert.NilError(t, err)
		assert.NilError(t, runToEnd(t, ctx, m3))
		assert.DeepEqual(t, rec3.Lines(), []string{"done 6"})
		assert.Equal(t, c.lists.Load(), int64(1))
	})
}

func TestMirrorStoreBehindCookie(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "mirror.db")
	old := openMemory(t)
	for i := 0; i < 10; i++ {
		put(t, old, "/pb/a", fmt.Sprint(i))
	}
	put(t, old, "/pb/b", "1")
	runPersist(t, old, state, newRecorder())

	// Another store, whose revisions are behind the cookie: its history is
	// not the one the state follows, so the mirror reconciles.
	fresh := openMemory(t)
	put(t, fresh, "/pb/a", "9")
	put(t, fresh, "/pb/c", "1")
	rec := newRecorder()
	m, err := mirror.NewMirror(fresh, "/pb/", rec, mirror.MirrorOptions{StatePath: state, Mode: mirror.RefreshOnly})
	assert.NilError(t, err)
	assert.NilError(t, runToEnd(t, ctx, m))
	assert.DeepEqual(t, rec.Lines(), []string{"change /pb/a 9->9", "delete /pb/b=1", "add /pb/c=1", "done 2"})
}

func TestMirrorCallbackFailure(t *testing.T) {
	errBoom := errors.New("boom")
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprintf("panic=%v", panics), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s *testStore) {
				ctx := context.Background()
				state := filepath.Join(t.TempDir(), "mirror.db")
				put(t, s, "/pb/a", "1")
				put(t, s, "/pb/b", "1")
				rec := newRecorder()
				rec.fail = func(line string) error {
					if line == "change /pb/b 1->2" {
						if panics {
							panic("boom")
						}
						return errBoom
					}
					return nil
				}
				m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{StatePath: state})
				assert.NilError(t, err)
				_, wait := run(t, ctx, m)
				waitLines(t, rec, 3)

				// One revision changes a and b: a's callback succeeds, b's
				// fails.
				res, err := s.Commit(ctx, backend.Txn{Then: []backend.Op{
					backend.Put("/pb/a", "2", backend.NoLease),
					backend.Put("/pb/b", "2", backend.NoLease),
				}})
				assert.NilError(t, err)
				err = wait()
				var cbErr *mirror.CallbackError
				assert.Assert(t, errors.As(err, &cbErr), "%v", err)
				assert.Equal(t, cbErr.Callback, "Change")
				assert.Equal(t, cbErr.Path, "/pb/b")
				assert.Equal(t, cbErr.Revision, res.Revision)
				assert.Assert(t, is.Contains(err.Error(), `"/pb/b"`))
				assert.Assert(t, is.Contains(err.Error(), "Change"))
				if panics {
					assert.Equal(t, cbErr.Panic, "boom")
					assert.Assert(t, len(cbErr.Stack) > 0)
					assert.Assert(t, is.Contains(err.Error(), "panicked"))
				} else {
					assert.Assert(t, errors.Is(err, errBoom))
					assert.Assert(t, cbErr.Panic == nil)
				}
				assert.DeepEqual(t, rec.Lines(), []string{"add /pb/a=1", "add /pb/b=1", "done 2", "change /pb/a 1->2"})

				// A restart delivers the failed change again, and only it.
				c := &counting{Backend: s}
				rec2 := newRecorder()
				m2, err := mirror.NewMirror(c, "/pb/", rec2, mirror.MirrorOptions{StatePath: state, Mode: mirror.RefreshOnly})
				assert.NilError(t, err)
				assert.NilError(t, runToEnd(t, ctx, m2))
				assert.DeepEqual(t, rec2.Lines(), []string{"change /pb/b 1->2", "done 2"})
				assert.Equal(t, c.lists.Load(), int64(0))
			})
		})
	}
}

func TestMirrorCallbackFailureDuringRefresh(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "mirror.db")
	for _, p := range []string{"/pb/a", "/pb/b", "/pb/c", "/pb/d", "/pb/e"} {
		put(t, s, p, "1")
	}
	rec := newRecorder()
	rec.fail = func(line string) error {
		if line == "add /pb/d=1" {
			panic("no d")
		}
		return nil
	}
	m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{StatePath: state, PageSize: 2})
	assert.NilError(t, err)
	err = m.Run(ctx)
	var cbErr *mirror.CallbackError
	assert.Assert(t, errors.As(err, &cbErr), "%v", err)
	assert.Equal(t, cbErr.Path, "/pb/d")
	assert.Equal(t, cbErr.Callback, "Add")
	assert.DeepEqual(t, rec.Lines(), []string{"add /pb/a=1", "add /pb/b=1", "add /pb/c=1"})

	// No cookie was written: the restart goes on with the refresh from
	// the last page written, at its revision, says nothing of the keys
	// already delivered, then follows the changes since.
	put(t, s, "/pb/a", "2")
	rec2 := newRecorder()
	m2, err := mirror.NewMirror(s, "/pb/", rec2, mirror.MirrorOptions{StatePath: state, PageSize: 2, Mode: mirror.RefreshOnly})
	assert.NilError(t, err)
	assert.NilError(t, runToEnd(t, ctx, m2))
	assert.DeepEqual(t, rec2.Lines(), []string{"add /pb/d=1", "add /pb/e=1", "change /pb/a 1->2", "done 5"})
}

func TestMirrorRefreshDoneFailure(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "mirror.db")
	put(t, s, "/pb/a", "1")
	rec := newRecorder()
	rec.fail = func(line string) error {
		if strings.HasPrefix(line, "done") {
			return errors.New("not ready")
		}
		return nil
	}
	m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{StatePath: state})
	assert.NilError(t, err)
	err = m.Run(ctx)
	var cbErr *mirror.CallbackError
	assert.Assert(t, errors.As(err, &cbErr), "%v", err)
	assert.Equal(t, cbErr.Callback, "RefreshDone")
	assert.ErrorContains(t, err, "not ready")

	c := &counting{Backend: s}
	rec2 := newRecorder()
	m2, err := mirror.NewMirror(c, "/pb/", rec2, mirror.MirrorOptions{StatePath: state, Mode: mirror.RefreshOnly})
	assert.NilError(t, err)
	assert.NilError(t, runToEnd(t, ctx, m2))
	assert.DeepEqual(t, rec2.Lines(), []string{"done 1"})
	assert.Equal(t, c.lists.Load(), int64(0))
}

func TestMirrorStopWhileEventsFlow(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		state := filepath.Join(t.TempDir(), "mirror.db")
		const n = 300
		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{StatePath: state})
		assert.NilError(t, err)
		_, wait := run(t, ctx, m)
		waitLines(t, rec, 1)

		lastRev := make(chan int64, 1)
		go func() {
			var last int64
			for i := 0; i < n; i++ {
				res, err := s.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put(fmt.Sprintf("/pb/k%04d", i), "v", backend.NoLease)}})
				if err != nil {
					panic(err)
				}
				last = res.Revision
			}
			lastRev <- last
		}()
		// Stop from another goroutine while events flow.
		waitLines(t, rec, n/3)
		go m.Stop()
		assert.NilError(t, wait())
		m.Stop()
		last := <-lastRev

		rec2 := newRecorder()
		m2, err := mirror.NewMirror(s, "/pb/", rec2, mirror.MirrorOptions{StatePath: state})
		assert.NilError(t, err)
		stop2, _ := run(t, ctx, m2)
		assert.NilError(t, m2.WaitForRevision(ctx, last))
		sdptest.WaitFor(t, "RefreshDone", func() bool { return hasPrefixLine(rec2.Lines(), "done") })
		assert.NilError(t, stop2())

		// Across both runs, every key was added exactly once, in order.
		var got []string
		for _, l := range append(rec.Lines(), rec2.Lines()...) {
			if !strings.HasPrefix(l, "done") {
				got = append(got, l)
			}
		}
		want := make([]string, n)
		for i := range want {
			want[i] = fmt.Sprintf("add /pb/k%04d=v", i)
		}
		assert.DeepEqual(t, got, want)
	})
}

func TestMirrorStateMismatch(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	put(t, s, "/pb/a", "1")
	put(t, s, "/other/x", "1")

	t.Run("prefix", func(t *testing.T) {
		state := filepath.Join(t.TempDir(), "mirror.db")
		runPersist(t, s, state, newRecorder())
		before := fileHash(t, state)

		_, err := mirror.NewMirror(s, "/other/", nil, mirror.MirrorOptions{StatePath: state})
		assert.Assert(t, errors.Is(err, mirror.ErrStateMismatch), "%v", err)
		var mm *mirror.StateMismatchError
		assert.Assert(t, errors.As(err, &mm))
		assert.DeepEqual(t, *mm, mirror.StateMismatchError{File: state, StoredPrefix: "/pb/", StoredFormat: mirror.StateFormat, WantPrefix: "/other/", WantFormat: mirror.StateFormat})
		assert.ErrorContains(t, err, state)
		assert.ErrorContains(t, err, `"/pb/"`)
		assert.ErrorContains(t, err, `"/other/"`)
		assert.Equal(t, fileHash(t, state), before, "a refused file is left as it was")

		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/other/", rec, mirror.MirrorOptions{StatePath: state, WipeOnMismatch: true, Mode: mirror.RefreshOnly})
		assert.NilError(t, err)
		assert.Equal(t, m.View().Len(), 0)
		assert.NilError(t, runToEnd(t, ctx, m))
		assert.DeepEqual(t, rec.Lines(), []string{"add /other/x=1", "done 1"})

		// The file now belongs to /other/.
		_, err = mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: state})
		assert.Assert(t, errors.Is(err, mirror.ErrStateMismatch), "%v", err)
	})

	t.Run("format version", func(t *testing.T) {
		state := filepath.Join(t.TempDir(), "mirror.db")
		writeBolt(t, state, map[string]map[string]string{
			"meta": {"kind": "sdpconfig/watcher.Mirror", "format": "99", "prefix": "/pb/", "cookie": "5"},
			"keys": {"/pb/a": "some future layout"},
		})
		before := fileHash(t, state)
		_, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: state})
		var mm *mirror.StateMismatchError
		assert.Assert(t, errors.As(err, &mm), "%v", err)
		assert.Equal(t, mm.StoredFormat, 99)
		assert.Equal(t, mm.WantFormat, mirror.StateFormat)
		assert.ErrorContains(t, err, "format 99")
		assert.Equal(t, fileHash(t, state), before)

		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{StatePath: state, WipeOnMismatch: true, Mode: mirror.RefreshOnly})
		assert.NilError(t, err)
		assert.NilError(t, runToEnd(t, ctx, m))
		assert.DeepEqual(t, rec.Lines(), []string{"add /pb/a=1", "done 1"})
	})
}

func TestMirrorCorruptStateFile(t *testing.T) {
	s := openMemory(t)
	put(t, s, "/pb/a", "1")
	goodMeta := map[string]string{"kind": "sdpconfig/watcher.Mirror", "format": fmt.Sprint(mirror.StateFormat), "prefix": "/pb/"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range goodMeta {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	// A valid record: mod 3, create 3, version 1, no lease, value "1".
	record := "\x03\x03\x01\x00" + "1"
	cases := []struct {
		name  string
		write func(t *testing.T, path string)
		why   string
	}{
		{"garbage", func(t *testing.T, path string) {
			assert.NilError(t, os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600))
		}, "not a bbolt database"},
		{"empty", func(t *testing.T, path string) {
			assert.NilError(t, os.WriteFile(path, nil, 0o600))
		}, "empty file"},
		{"directory", func(t *testing.T, path string) {
			assert.NilError(t, os.Mkdir(path, 0o700))
		}, "not a regular file"},
		{"foreign bbolt", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"other": {"x": "y"}})
		}, "not a mirror state file"},
		{"wrong kind", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": with("kind", "something else"), "keys": {}})
		}, "not a mirror state file"},
		{"no keys bucket", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": goodMeta})
		}, `no "keys" bucket`},
		{"bad format", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": with("format", "one"), "keys": {}})
		}, "bad format version"},
		{"bad cookie", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": with("cookie", "soon"), "keys": {}})
		}, "bad cookie"},
		{"garbage record", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": with("cookie", "9"), "keys": {"/pb/a": "\xff\xff\xff"}})
		}, `key "/pb/a"`},
		{"bad revisions", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": with("cookie", "9"), "keys": {"/pb/a": "\x00\x00\x00\x00"}})
		}, "bad revisions"},
		{"record after cookie", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": with("cookie", "1"), "keys": {"/pb/a": record}})
		}, "after the cookie"},
		{"key outside prefix", func(t *testing.T, path string) {
			writeBolt(t, path, map[string]map[string]string{"meta": with("cookie", "9"), "keys": {"/zz": record}})
		}, `key "/zz"`},
		{"truncated", func(t *testing.T, path string) {
			big := openMemory(t)
			for i := 0; i < 2000; i++ {
				put(t, big, fmt.Sprintf("/pb/k%05d", i), strings.Repeat("v", 100))
			}
			runPersist(t, big, path, newRecorder())
			fi, err := os.Stat(path)
			assert.NilError(t, err)
			assert.NilError(t, os.Truncate(path, fi.Size()/2))
		}, "truncated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mirror.db")
			tc.write(t, path)
			before := fileHash(t, path)
			for _, wipe := range []bool{false, true} {
				_, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: path, WipeOnMismatch: wipe})
				assert.Assert(t, errors.Is(err, mirror.ErrStateCorrupt), "%v", err)
				assert.ErrorContains(t, err, path)
				assert.ErrorContains(t, err, tc.why)
				assert.Equal(t, fileHash(t, path), before, "a corrupt file is never modified")
			}
		})
	}
}

func TestMirrorStateFileLocked(t *testing.T) {
	s := openMemory(t)
	state := filepath.Join(t.TempDir(), "mirror.db")
	m, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: state})
	assert.NilError(t, err)
	_, err = mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: state})
	assert.Assert(t, errors.Is(err, mirror.ErrStateLocked), "%v", err)
	assert.ErrorContains(t, err, state)
	m.Stop() // releases the file
	m2, err := mirror.NewMirror(s, "/pb/", nil, mirror.MirrorOptions{StatePath: state})
	assert.NilError(t, err)
	m2.Stop()
}

// writeBolt writes a bbolt file holding the given buckets.
func writeBolt(t *testing.T, path string, buckets map[string]map[string]string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	assert.NilError(t, err)
	assert.NilError(t, db.Update(func(tx *bolt.Tx) error {
		for name, kvs := range buckets {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range kvs {
				if name == "keys" {
					v = mirror.SealRecord(k, v)
				}
				if err := b.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
		}
		// Records and meta bucket get the checksums the package writes, so
		// that what a test made is checked for what it means to test.
		if meta := tx.Bucket([]byte("meta")); meta != nil && string(meta.Get([]byte("format"))) == fmt.Sprint(mirror.StateFormat) {
			return mirror.SealMeta(meta, len(buckets["keys"]))
		}
		return nil
	}))
	assert.NilError(t, db.Close())
}

// fileHash returns the SHA-256 of a file's bytes, or of "dir" for a
// directory, with its modification time.
func fileHash(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	assert.NilError(t, err)
	if fi.IsDir() {
		return "dir " + fi.ModTime().String()
	}
	b, err := os.ReadFile(path)
	assert.NilError(t, err)
	return fmt.Sprintf("%x %d %s", sha256.Sum256(b), fi.Size(), fi.ModTime())
}

func TestMirrorStopDuringRefresh(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "mirror.db")
	const n = 50
	var want []string
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("/pb/k%03d", i)
		put(t, s, p, "v")
		want = append(want, "add "+p+"=v")
	}
	rec := newRecorder()
	var m *mirror.Mirror
	rec.fail = func(line string) error {
		if line == "add /pb/k010=v" {
			m.Stop() // from a callback too: the page in progress completes
		}
		return nil
	}
	var err error
	m, err = mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{StatePath: state, PageSize: 4})
	assert.NilError(t, err)
	assert.NilError(t, m.Run(ctx))
	first := rec.Lines()
	assert.DeepEqual(t, first, want[:12]) // up to the end of k010's page

	// The restart finishes the refresh: every key once across both runs.
	rec2 := newRecorder()
	m2, err := mirror.NewMirror(s, "/pb/", rec2, mirror.MirrorOptions{StatePath: state, PageSize: 4, Mode: mirror.RefreshOnly})
	assert.NilError(t, err)
	assert.NilError(t, runToEnd(t, ctx, m2))
	second := rec2.Lines()
	assert.Equal(t, second[len(second)-1], fmt.Sprintf("done %d", n))
	assert.DeepEqual(t, append(first, second[:len(second)-1]...), want)
}
