package mirror_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMirrorResumeBacklogOnRealServers resumes a RefreshAndPersist mirror
// from a state file with a backlog of 2,500 writes, on the newest etcd
// (embedded) and on Debian's etcd 3.4.23, which answers a progress request
// before the backlog's events (etcd issue 15220). At RefreshDone the view
// must be the store, and the state file left by a stop right after it
// must hold no key older than its cookie says.
func TestMirrorResumeBacklogOnRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd servers and writes 3,000 keys")
	}
	servers := []struct {
		name string
		open func(t *testing.T) backend.Backend
	}{
		{"embedded", func(t *testing.T) backend.Backend { return sdptest.NewBackend(t) }},
		{"embedded-verifying-progress", func(t *testing.T) backend.Backend {
			return sdptest.NewEtcd(t).Backend(t, etcd3.Config{VerifyProgress: true})
		}},
		{"debian-3.4", func(t *testing.T) backend.Backend {
			return sdptest.NewDebianEtcd(t).Backend(t, etcd3.Config{})
		}},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			b := srv.open(t)
			ctx := context.Background()
			state := filepath.Join(t.TempDir(), "mirror.db")
			const keys, rounds = 500, 5
			for i := range keys {
				put(t, b, fmt.Sprintf("/pb/k%03d", i), "v0")
			}
			m, err := mirror.NewMirror(b, "/pb/", newRecorder(), mirror.MirrorOptions{StatePath: state})
			assert.NilError(t, err)
			stop, _ := run(t, ctx, m)
			rev, err := b.Revision(ctx)
			assert.NilError(t, err)
			assert.NilError(t, m.WaitForRevision(ctx, rev))
			assert.NilError(t, stop())

			// The backlog: every key written 5 more times while the mirror
			// is down.
			for r := 1; r <= rounds; r++ {
				for i := range keys {
					put(t, b, fmt.Sprintf("/pb/k%03d", i), fmt.Sprintf("v%d", r))
				}
			}
			want := storeLines(t, b, "/pb/")

			// The view is live: read it inside RefreshDone, where its keys
			// hold still, and stop the mirror right after.
			done := &doneLines{recorder: newRecorder(), lines: make(chan []string, 1)}
			m2, err := mirror.NewMirror(b, "/pb/", done, mirror.MirrorOptions{StatePath: state})
			assert.NilError(t, err)
			stop2, _ := run(t, ctx, m2)
			var atDone []string
			select {
			case atDone = <-done.lines:
			case <-time.After(sdptest.WaitTimeout):
				t.Fatalf("no RefreshDone of the resumed mirror within %v", sdptest.WaitTimeout)
			}
			assert.NilError(t, stop2())
			assert.Equal(t, stale(atDone, want), 0, "stale keys at RefreshDone")

			// What the state file says after the stop: its keys are the
			// store's at its cookie.
			m3, err := mirror.NewMirror(b, "/pb/", newRecorder(), mirror.MirrorOptions{StatePath: state})
			assert.NilError(t, err)
			v := m3.View()
			assert.Equal(t, stale(viewLines(v), storeLinesAt(t, b, "/pb/", v.Revision())), 0,
				"keys of the state file older than its cookie %d", v.Revision())
			stop3, _ := run(t, ctx, m3)
			assert.NilError(t, m3.WaitForRevision(ctx, rev+keys*rounds))
			assert.DeepEqual(t, viewLines(m3.View()), want)
			assert.NilError(t, stop3())
		})
	}
}

// doneLines is a recorder that sends the view's lines, read inside
// RefreshDone, on lines.
type doneLines struct {
	*recorder
	lines chan []string
}

func (d *doneLines) RefreshDone(v mirror.View) error {
	select {
	case d.lines <- viewLines(v):
	default:
	}
	return d.recorder.RefreshDone(v)
}

// stale counts the lines of got that differ from want's (both sorted
// path=value lines), and the lines missing from either.
func stale(got, want []string) int {
	n := 0
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			n++
		}
	}
	return n
}

// storeLinesAt returns the keys under prefix at revision rev, as
// storeLines does.
func storeLinesAt(t testing.TB, b backend.Backend, prefix string, rev int64) []string {
	t.Helper()
	depths := make([]int, backend.MaxDepth)
	for i := range depths {
		depths[i] = i
	}
	res, err := b.List(context.Background(), prefix, backend.ListOptions{Depths: depths, WithValues: true, Revision: rev})
	assert.NilError(t, err)
	var out []string
	for _, kv := range res.KVs {
		out = append(out, kv.Path+"="+kv.Value)
	}
	return out
}
