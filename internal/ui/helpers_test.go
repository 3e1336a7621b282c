package ui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/ui"
)

// console is a console under test: its Config and an httptest server.
type console struct {
	t    *testing.T
	c    *config.Config
	b    backend.Backend
	srv  *httptest.Server
	ui   *ui.Server
	csrf string
	jar  http.Client
}

// newConsole serves a console over c (a fresh memory store when nil).
func newConsole(t *testing.T, c *config.Config, opts ui.Options) *console {
	t.Helper()
	if c == nil {
		mem := memory.New()
		t.Cleanup(func() { mem.Close() })
		c = config.New(mem, config.Options{})
		t.Cleanup(func() { c.Close() })
	}
	opts.Config = c
	u, err := ui.New(opts)
	assert.NilError(t, err)
	srv := httptest.NewServer(u)
	t.Cleanup(func() { u.Close(); srv.Close() })
	k := &console{t: t, c: c, b: c.Backend(), srv: srv, ui: u}
	k.jar.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if opts.Password == "" {
		var s struct{ CSRF string }
		k.ok("GET", "/api/session", nil, &s)
		k.csrf = s.CSRF
	}
	return k
}

// do sends a request (with the CSRF token for writes) and returns the
// status and the decoded body.
func (k *console) do(method, path string, body any, hdr map[string]string) (int, map[string]any) {
	k.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		assert.NilError(k.t, err)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, k.srv.URL+path, r)
	assert.NilError(k.t, err)
	if method != "GET" {
		req.Header.Set("X-CSRF-Token", k.csrf)
	}
	for h, v := range hdr {
		req.Header.Set(h, v)
	}
	resp, err := k.jar.Do(req)
	assert.NilError(k.t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 && raw[0] == '{' {
		assert.NilError(k.t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

// ok sends a request that must succeed and decodes its body into v.
func (k *console) ok(method, path string, body, v any) {
	k.t.Helper()
	req, err := http.NewRequest(method, k.srv.URL+path, nil)
	if body != nil {
		b, _ := json.Marshal(body)
		req, err = http.NewRequest(method, k.srv.URL+path, strings.NewReader(string(b)))
	}
	assert.NilError(k.t, err)
	req.Header.Set("X-CSRF-Token", k.csrf)
	resp, err := k.jar.Do(req)
	assert.NilError(k.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	assert.Equal(k.t, resp.StatusCode, http.StatusOK, "%s %s: %s", method, path, raw)
	if v != nil {
		assert.NilError(k.t, json.Unmarshal(raw, v), string(raw))
	}
}

func (k *console) put(path, value string) int64 {
	k.t.Helper()
	res, err := k.b.Commit(context.Background(), backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
	assert.NilError(k.t, err)
	return res.Revision
}

func qp(path string) string { return url.QueryEscape(path) }

// sse reads the events of an event stream.
type sse struct {
	resp *http.Response
	r    *bufio.Reader
}

func (k *console) events(from int64) *sse {
	k.t.Helper()
	resp, err := http.Get(k.srv.URL + "/api/events?from=" + itoa(from))
	assert.NilError(k.t, err)
	assert.Equal(k.t, resp.StatusCode, http.StatusOK)
	assert.Equal(k.t, resp.Header.Get("Content-Type"), "text/event-stream")
	k.t.Cleanup(func() { resp.Body.Close() })
	return &sse{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next event's name and data.
func (s *sse) next(t *testing.T) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		assert.NilError(t, err)
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}
