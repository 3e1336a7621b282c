package mirror_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// recorder is a Handler that records its callbacks as lines:
// "add /p=v", "change /p v1->v2", "delete /p=v", "done <len>".
type recorder struct {
	mu    sync.Mutex
	lines []string
	views []mirror.View
	// revs holds the ModRevision of each add and change, by path.
	revs map[string][]int64
	// fail, if set, is called before each callback is recorded; what it
	// returns is the callback's result (it may panic).
	fail func(line string) error
}

func newRecorder() *recorder { return &recorder{revs: make(map[string][]int64)} }

func (r *recorder) record(line string, kv *backend.KeyValue) error {
	if r.fail != nil {
		if err := r.fail(line); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
	if kv != nil {
		r.revs[kv.Path] = append(r.revs[kv.Path], kv.ModRevision)
	}
	return nil
}

func (r *recorder) Add(kv backend.KeyValue) error {
	return r.record(fmt.Sprintf("add %s=%s", kv.Path, kv.Value), &kv)
}

func (r *recorder) Change(old, new backend.KeyValue) error {
	if old.Path != new.Path {
		return fmt.Errorf("change of %q has old path %q", new.Path, old.Path)
	}
	return r.record(fmt.Sprintf("change %s %s->%s", new.Path, old.Value, new.Value), &new)
}

func (r *recorder) Delete(old backend.KeyValue) error {
	return r.record(fmt.Sprintf("delete %s=%s", old.Path, old.Value), nil)
}

func (r *recorder) RefreshDone(v mirror.View) error {
	if err := r.record(fmt.Sprintf("done %d", v.Len()), nil); err != nil {
		return err
	}
	r.mu.Lock()
	r.views = append(r.views, v)
	r.mu.Unlock()
	return nil
}

// Lines returns a copy of the lines recorded so far.
func (r *recorder) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

// Take returns the lines recorded so far and forgets them.
func (r *recorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lines
	r.lines = nil
	return l
}

// waitLines waits until r has recorded n lines and returns them.
func waitLines(t testing.TB, r *recorder, n int) []string {
	t.Helper()
	sdptest.WaitFor(t, fmt.Sprintf("%d callbacks", n), func() bool { return len(r.Lines()) >= n })
	return r.Lines()
}

// run starts m.Run in a goroutine. stop stops the mirror and returns Run's
// error; wait returns Run's error once Run has returned on its own. Both
// may be called any number of times; stop is also a cleanup.
func run(t testing.TB, ctx context.Context, m *mirror.Mirror) (stop, wait func() error) {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = m.Run(ctx)
	}()
	wait = func() error {
		<-done
		return err
	}
	stop = func() error {
		m.Stop()
		return wait()
	}
	t.Cleanup(func() { _ = stop() })
	return stop, wait
}

// runToEnd runs m until Run returns on its own.
func runToEnd(t testing.TB, ctx context.Context, m *mirror.Mirror) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return m.Run(ctx)
}

// counting wraps a backend and counts the calls the Mirror makes.
type counting struct {
	backend.Backend
	lists   atomic.Int64
	watches atomic.Int64
	// afterList, if set, runs after each List with the call's number (1
	// for the first).
	afterList func(n int64)
}

func (c *counting) List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error) {
	res, err := c.Backend.List(ctx, prefix, opts)
	n := c.lists.Add(1)
	if c.afterList != nil {
		c.afterList(n)
	}
	return res, err
}

func (c *counting) Watch(ctx context.Context, ranges []backend.Range, fromRev int64) (backend.WatchStream, error) {
	c.watches.Add(1)
	return c.Backend.Watch(ctx, ranges, fromRev)
}

// put writes path=value and returns the revision.
func put(t testing.TB, b backend.Backend, path, value string) int64 {
	t.Helper()
	res, err := b.Commit(context.Background(), backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
	assert.NilError(t, err)
	return res.Revision
}

// del deletes path and returns the revision.
func del(t testing.TB, b backend.Backend, path string) int64 {
	t.Helper()
	res, err := b.Delete(context.Background(), path, backend.DeleteOptions{MustExist: true})
	assert.NilError(t, err)
	return res.Revision
}

// viewLines returns the view's keys as "path=value" lines in Range order.
func viewLines(v mirror.View) []string {
	var out []string
	v.Range(func(kv backend.KeyValue) bool {
		out = append(out, kv.Path+"="+kv.Value)
		return true
	})
	return out
}

// storeLines returns the keys under prefix in the store, as viewLines does.
func storeLines(t testing.TB, b backend.Backend, prefix string) []string {
	t.Helper()
	return storeLinesAt(t, b, prefix, 0)
}

// sortedCopy returns lines sorted.
func sortedCopy(lines []string) []string {
	l := slices.Clone(lines)
	slices.Sort(l)
	return l
}

// addLinesOf returns the "add" lines of view-like "path=value" lines.
func addLinesOf(kvLines []string) []string {
	out := make([]string, len(kvLines))
	for i, l := range kvLines {
		out[i] = "add " + l
	}
	return out
}

// hasPrefixLine reports whether some line starts with p.
func hasPrefixLine(lines []string, p string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, p) })
}
