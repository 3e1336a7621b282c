package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// watch through an outage of the server: a notice when the connection is
// lost, another when it is back with the revision it resumed after, and
// the changes made after the return printed soon, none missed.
func TestWatchSaysWhenTheConnectionIsLostAndBack(t *testing.T) {
	e := sdptest.NewEtcd(t)
	cli := e.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	env := newEnv(strings.NewReader(""), &out, &errOut)
	env.getenv = func(string) string { return "" }
	done := make(chan int, 1)
	go func() {
		done <- env.run(ctx, []string{"--endpoints", e.Endpoints()[0], "watch", "--prefix", "/w"})
	}()
	put := func(k, v string) int64 {
		t.Helper()
		resp, err := cli.Put(context.Background(), "2/w/"+k, v)
		assert.NilError(t, err)
		return resp.Header.Revision
	}
	// The watch is open once a change shows.
	sdptest.WaitFor(t, "the watch to print a first change", func() bool {
		put("a", "1")
		return strings.Contains(out.String(), "/w/a")
	})
	// The last change before the outage, printed: the watch has seen up
	// to its revision.
	last := put("a", "last")
	sdptest.WaitFor(t, fmt.Sprintf("the change at revision %d", last), func() bool {
		return strings.Contains(out.String(), fmt.Sprintf("%d  PUT     /w/a  last", last))
	})

	e.Stop()
	sdptest.WaitFor(t, "a notice that the connection is lost", func() bool {
		return strings.Contains(errOut.String(), "connection to the store lost")
	})
	e.Restart(t)
	cli = e.Client(t)
	back := time.Now()
	sdptest.WaitFor(t, "a notice that the connection is back", func() bool {
		return strings.Contains(errOut.String(), "reconnected")
	})
	rev := put("b", "2")
	sdptest.WaitFor(t, fmt.Sprintf("the change at revision %d", rev), func() bool {
		return strings.Contains(out.String(), fmt.Sprintf("%d  PUT     /w/b  2", rev))
	})
	t.Logf("the change made after the server came back showed %v after its return", time.Since(back))
	assert.Assert(t, strings.Contains(errOut.String(), fmt.Sprintf("reconnected; resumed after revision %d, nothing missed", last)), errOut.String())
	cancel()
	assert.Equal(t, <-done, 0, errOut.String())
}

// A revision to watch from that was compacted fails watch with advice,
// unless --relist: then the current state comes first, then the changes.
func TestWatchRelistsACompactedRevision(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/a", "1", "/pb/b", "1", "/other", "o")
	rev := h.put("/pb/a", "2")
	assert.NilError(t, h.mem.Compact(context.Background(), rev))
	wantError(t, h.run("watch", "--prefix", "--rev", "2", "/pb"), exitError, "compacted", "--relist")

	r := h.run("watch", "--prefix", "--rev", "2", "--relist", "--count", "2", "/pb")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, r.out, "5  PUT     /pb/a  2\n3  PUT     /pb/b  1\n")
	assert.Equal(t, r.err, "sdpcfg: watch: revision 2 was compacted; the state of /pb at revision 5 follows, then its changes\n")

	// And the changes after it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- h.env("", &out, &errOut).run(ctx, []string{"watch", "--prefix", "--rev", "2", "--relist", "--count", "3", "/pb"})
	}()
	sdptest.WaitFor(t, "the state relisted", func() bool { return strings.Count(out.String(), "\n") == 2 })
	next := h.put("/pb/c", "new")
	assert.Equal(t, <-done, 0, errOut.String())
	assert.Equal(t, out.String(), fmt.Sprintf("5  PUT     /pb/a  2\n3  PUT     /pb/b  1\n%d  PUT     /pb/c  new\n", next))
}
