package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestWatchReplaysFromRevision(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "1", "/pb/x/state", `{"s": 1}`, "/other", "o")
	h.mem.Delete(context.Background(), "/pb/x", backend.DeleteOptions{})
	assert.Equal(t, h.ok("watch", "--prefix", "--rev", "1", "--count", "3", "/pb"),
		"2  PUT     /pb/x  1\n3  PUT     /pb/x/state  {\"s\":1}\n5  DELETE  /pb/x\n")
	// Without --prefix: the key only.
	assert.Equal(t, h.ok("watch", "--rev", "1", "--count", "2", "/pb/x"), "2  PUT     /pb/x  1\n5  DELETE  /pb/x\n")
	// Everything.
	assert.Equal(t, h.ok("watch", "--prefix", "--rev", "4", "--count", "1", "/"), "4  PUT     /other  o\n")

	out := h.ok("watch", "-o", "json", "--rev", "1", "--count", "2", "/pb/x")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, len(lines), 2)
	var ev eventItem
	assert.NilError(t, json.Unmarshal([]byte(lines[1]), &ev))
	assert.Equal(t, ev.Type, "DELETE")
	assert.Equal(t, ev.Revision, int64(5))
	assert.Equal(t, *ev.PrevValue, "1")
	assert.Assert(t, ev.Value == nil)

	out = h.ok("watch", "-o", "yaml", "--rev", "1", "--count", "1", "/pb/x")
	assert.Equal(t, out, "---\npath: /pb/x\nrevision: 2\ntype: PUT\nvalue: \"1\"\nversion: 1\n")
}

func TestWatchStreamsUntilInterrupted(t *testing.T) {
	h := newHarness(t)
	opened := make(chan struct{}, 1)
	h.b = &hookBackend{Backend: h.mem, onWatch: func() { opened <- struct{}{} }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- h.env("", &out, &errOut).run(ctx, []string{"watch", "--prefix", "/pb"}) }()
	<-opened
	h.put("/pb/a", "1", "/elsewhere", "x", "/pb/a/state", "2")
	sdptest.WaitFor(t, "two events", func() bool { return strings.Count(out.String(), "\n") == 2 })
	cancel() // Ctrl-C
	assert.Equal(t, <-done, 0)
	assert.Equal(t, out.String(), "2  PUT     /pb/a  1\n4  PUT     /pb/a/state  2\n")
	assert.Equal(t, errOut.String(), "")
}

// cutStream passes on the first response with events of a stream, then
// ends as a cut connection does.
type cutStream struct {
	backend.WatchStream
	ch chan backend.WatchResponse
}

func (c *cutStream) Responses() <-chan backend.WatchResponse { return c.ch }

func newCutStream(ws backend.WatchStream) *cutStream {
	c := &cutStream{WatchStream: ws, ch: make(chan backend.WatchResponse, 2)}
	go func() {
		defer close(c.ch)
		for r := range ws.Responses() {
			if len(r.Events) > 0 {
				c.ch <- r
				c.ch <- backend.WatchResponse{Err: fmt.Errorf("cut: %w", backend.ErrUnavailable)}
				return
			}
		}
	}()
	return c
}

func TestWatchResumesACutStream(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	streams := 0
	opened := make(chan struct{}, 2)
	h.b = &hookBackend{Backend: h.mem,
		wrapStream: func(ws backend.WatchStream) backend.WatchStream {
			mu.Lock()
			defer mu.Unlock()
			streams++
			if streams == 1 {
				return newCutStream(ws)
			}
			return ws
		},
		onWatch: func() { opened <- struct{}{} },
	}
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- h.env("", &out, &errOut).run(context.Background(), []string{"watch", "--prefix", "--count", "3", "/pb"})
	}()
	<-opened
	h.put("/pb/1", "a")
	sdptest.WaitFor(t, "the first event", func() bool { return strings.Count(out.String(), "\n") == 1 })
	h.put("/pb/2", "b", "/pb/3", "c") // while the stream is cut, or after
	assert.Equal(t, <-done, 0, errOut.String())
	assert.Equal(t, out.String(), "2  PUT     /pb/1  a\n3  PUT     /pb/2  b\n4  PUT     /pb/3  c\n")
	assert.Equal(t, streams, 2)
}

func TestWatchCompacted(t *testing.T) {
	h := newHarness(t)
	rev := h.put("/pb/a", "1", "/pb/a", "2", "/pb/a", "3")
	assert.NilError(t, h.mem.Compact(context.Background(), rev))
	wantError(t, h.run("watch", "--rev", "1", "/pb/a"), exitError, "watch /pb/a", "revision compacted", "start from a later --rev")
	wantError(t, h.run("watch", "--count", "-1", "/pb/a"), exitUsage, "--count -1")
	wantError(t, h.run("watch", "/"), exitUsage, `invalid path "/"`)
}
