package mirror_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/mirror"
)

// stopAfterAdds is a recorder that stops its Mirror after n adds.
type stopAfterAdds struct {
	*recorder
	n    int
	stop func()
}

func (s *stopAfterAdds) Add(kv backend.KeyValue) error {
	if err := s.recorder.Add(kv); err != nil {
		return err
	}
	if s.n--; s.n == 0 {
		s.stop()
	}
	return nil
}

// TestMirrorRefreshResumes stops a Mirror half-way through its first
// listing, twice: each restart lists on from the last page it wrote, at
// the same revision, instead of from the start, and every key is added
// exactly once.
func TestMirrorRefreshResumes(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		const keys, pageSize = 1000, 50
		for i := range keys {
			put(t, s, fmt.Sprintf("/pb/k%04d", i), "v")
		}
		state := filepath.Join(t.TempDir(), "mirror.db")
		opts := mirror.MirrorOptions{StatePath: state, PageSize: pageSize}
		var adds []string
		for run, stopAt := range []int{310, 420, 0} {
			rec := &stopAfterAdds{recorder: newRecorder(), n: stopAt}
			if stopAt == 0 {
				opts.Mode = mirror.RefreshOnly // the last run ends by itself
			}
			m, err := mirror.NewMirror(s, "/pb/", rec, opts)
			assert.NilError(t, err)
			rec.stop = m.Stop
			assert.NilError(t, runToEnd(t, ctx, m))
			lines := rec.Lines()
			before := len(adds)
			for _, l := range lines {
				if strings.HasPrefix(l, "add ") {
					adds = append(adds, l)
				}
			}
			if run > 0 {
				// The listing goes on after the last key of the last run:
				// its first pages are not read again.
				want := fmt.Sprintf("add /pb/k%04d=v", before)
				assert.Equal(t, lines[0], want, "first callback of run %d", run)
			}
		}
		assert.Equal(t, len(adds), keys, "adds over the three runs")
		assert.DeepEqual(t, sortedCopy(adds), addLinesOf(storeLines(t, s, "/pb/")))
	})
}
