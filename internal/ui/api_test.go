package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/internal/ui"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type childrenResp struct {
	Revision int64
	Children []struct {
		Path        string
		Name        string
		Key         bool
		HasChildren bool
	}
	More bool
}

func TestChildrenAreLevelsOfPaths(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	for _, p := range []string{"/a", "/pb/pb-1", "/pb/pb-1/state", "/pb/pb-2", "/eb/x/y/z"} {
		k.put(p, `{}`)
	}
	var got childrenResp
	k.ok("GET", "/api/children?path=/", nil, &got)
	var lines []string
	for _, c := range got.Children {
		lines = append(lines, c.Path+" key="+strconv.FormatBool(c.Key)+" children="+strconv.FormatBool(c.HasChildren))
	}
	assert.DeepEqual(t, lines, []string{"/a key=true children=false", "/eb key=false children=true", "/pb key=false children=true"})
	k.ok("GET", "/api/children?path=/pb", nil, &got)
	assert.Equal(t, len(got.Children), 2)
	assert.Equal(t, got.Children[0].Path, "/pb/pb-1")
	assert.Assert(t, got.Children[0].Key && got.Children[0].HasChildren)
	assert.Assert(t, got.Children[1].Key && !got.Children[1].HasChildren)

	code, body := k.do("GET", "/api/children?path=pb", nil, nil)
	assert.Equal(t, code, http.StatusBadRequest)
	assert.Assert(t, strings.Contains(body["error"].(string), `"pb"`), body)
	code, _ = k.do("GET", "/api/children?path=/&rev=x", nil, nil)
	assert.Equal(t, code, http.StatusBadRequest)
}

func TestPutComparesOnTheModRevisionSeen(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	var w struct{ Revision int64 }
	k.ok("PUT", "/api/key?path="+qp("/pb/x"), map[string]any{"value": `{"a": 1}`, "modRevision": 0}, &w)
	created := w.Revision
	// A second create conflicts: the key exists.
	code, body := k.do("PUT", "/api/key?path=/pb/x", map[string]any{"value": `{}`, "modRevision": 0}, nil)
	assert.Equal(t, code, http.StatusConflict)
	assert.Equal(t, body["current"].(map[string]any)["value"], `{"a": 1}`)

	// Someone else writes; the update made on the old revision conflicts
	// and shows their version; a retry on theirs succeeds.
	theirs := k.put("/pb/x", `{"a": 2}`)
	code, body = k.do("PUT", "/api/key?path=/pb/x", map[string]any{"value": `{"a": 3}`, "modRevision": created}, nil)
	assert.Equal(t, code, http.StatusConflict)
	assert.Assert(t, strings.Contains(body["error"].(string), "changed since you read it"), body)
	cur := body["current"].(map[string]any)
	assert.Equal(t, cur["value"], `{"a": 2}`)
	assert.Equal(t, int64(cur["modRevision"].(float64)), theirs)
	k.ok("PUT", "/api/key?path=/pb/x", map[string]any{"value": `{"a": 3}`, "modRevision": theirs}, nil)
	kv, _, err := k.b.Get(context.Background(), "/pb/x", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, `{"a": 3}`)

	// Bad input: one-line errors naming what is wrong; nothing written.
	for _, tc := range []struct {
		path string
		body any
		want string
	}{
		{"/pb/x", map[string]any{"value": `{"a":`, "modRevision": kv.ModRevision}, "not valid JSON"},
		{"/pb/x", map[string]any{"value": "1", "modRevision": kv.ModRevision, "extra": 1}, "unknown field"},
		{"/pb/", map[string]any{"value": "1", "modRevision": 0}, "must not end with"},
	} {
		code, body := k.do("PUT", "/api/key?path="+qp(tc.path), tc.body, nil)
		assert.Equal(t, code, http.StatusBadRequest, tc.want)
		assert.Assert(t, strings.Contains(body["error"].(string), tc.want), body)
		assert.Assert(t, !strings.Contains(body["error"].(string), "\n"))
	}
	// A raw value need not be JSON.
	k.ok("PUT", "/api/key?path=/pb/raw", map[string]any{"value": "plain text", "modRevision": 0, "raw": true}, nil)
	kv2, _, err := k.b.Get(context.Background(), "/pb/x", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv2.ModRevision, kv.ModRevision)
}

func TestUpdateKeepsTheLease(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	ctx := context.Background()
	l, err := k.b.Lease(ctx, time.Minute)
	assert.NilError(t, err)
	defer l.Close()
	rev, err := k.b.Create(ctx, "/pb/leased", "1", l.ID())
	assert.NilError(t, err)
	k.ok("PUT", "/api/key?path=/pb/leased", map[string]any{"value": "2", "modRevision": rev}, nil)
	kv, _, err := k.b.Get(ctx, "/pb/leased", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Lease, l.ID())
}

func TestWritesNeedCSRFSameOriginAndNotReadOnly(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	body := map[string]any{"value": "1", "modRevision": 0}
	code, resp := k.do("PUT", "/api/key?path=/a", body, map[string]string{"X-CSRF-Token": "forged"})
	assert.Equal(t, code, http.StatusForbidden)
	assert.Assert(t, strings.Contains(resp["error"].(string), "X-CSRF-Token"))
	code, resp = k.do("PUT", "/api/key?path=/a", body, map[string]string{"Origin": "https://evil.example"})
	assert.Equal(t, code, http.StatusForbidden)
	assert.Assert(t, strings.Contains(resp["error"].(string), "evil.example"))
	k.ok("PUT", "/api/key?path=/a", body, nil)

	ro := newConsole(t, k.c, ui.Options{ReadOnly: true})
	code, resp = ro.do("PUT", "/api/key?path=/b", body, nil)
	assert.Equal(t, code, http.StatusForbidden)
	assert.Assert(t, strings.Contains(resp["error"].(string), "read-only"))
	code, _ = ro.do("DELETE", "/api/key?path=/a&modRevision=2", nil, nil)
	assert.Equal(t, code, http.StatusForbidden)
	var s map[string]any
	ro.ok("GET", "/api/session", nil, &s)
	assert.Equal(t, s["readOnly"], true)
}

func TestDeletes(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	rev := k.put("/pb/a", "1")
	k.put("/pb/a/b", "1")
	k.put("/pb/a/b/c", "1")
	k.put("/pb/ab", "1") // not below /pb/a
	code, _ := k.do("DELETE", "/api/key?path=/pb/a&modRevision="+itoa(rev-1), nil, nil)
	assert.Equal(t, code, http.StatusConflict)

	// The recursive delete says the count, then needs it.
	code, body := k.do("DELETE", "/api/tree?path=/pb/a&count=-1", nil, nil)
	assert.Equal(t, code, http.StatusConflict)
	assert.Equal(t, body["current"].(map[string]any)["count"], 3.0)
	var d struct{ Deleted int64 }
	k.ok("DELETE", "/api/tree?path=/pb/a&count=3", nil, &d)
	assert.Equal(t, d.Deleted, int64(3))
	_, _, err := k.b.Get(context.Background(), "/pb/ab", 0)
	assert.NilError(t, err)

	rev = k.put("/pb/x", "1")
	k.ok("DELETE", "/api/key?path=/pb/x&modRevision="+itoa(rev), nil, nil)
	_, _, err = k.b.Get(context.Background(), "/pb/x", 0)
	assert.ErrorIs(t, err, backend.ErrNotFound)
}

func TestHistoryAndTimeTravel(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	r1 := k.put("/pb/x", `{"v": 1}`)
	k.put("/pb/x", `{"v": 2}`)
	_, err := k.b.Delete(context.Background(), "/pb/x", backend.DeleteOptions{})
	assert.NilError(t, err)
	r4 := k.put("/pb/x", `{"v": 4}`)
	var h struct {
		Compact  int64 `json:"compactRevision"`
		Versions []struct {
			Type        string
			ModRevision int64
			Value       string
		}
	}
	k.ok("GET", "/api/history?path=/pb/x", nil, &h)
	var got []string
	for _, v := range h.Versions {
		got = append(got, v.Type+" "+v.Value)
	}
	assert.DeepEqual(t, got, []string{`PUT {"v": 1}`, `PUT {"v": 2}`, "DELETE ", `PUT {"v": 4}`})

	// The tree and a key at an old revision.
	var key struct{ Value string }
	k.ok("GET", "/api/key?path=/pb/x&rev="+itoa(r1), nil, &key)
	assert.Equal(t, key.Value, `{"v": 1}`)
	var ch childrenResp
	k.ok("GET", "/api/children?path=/pb&rev="+itoa(r1), nil, &ch)
	assert.Equal(t, len(ch.Children), 1)

	// Compacted: a clear 410, and the history says where it starts.
	assert.NilError(t, k.b.Compact(context.Background(), r4-1))
	code, body := k.do("GET", "/api/key?path=/pb/x&rev="+itoa(r1), nil, nil)
	assert.Equal(t, code, http.StatusGone)
	assert.Assert(t, strings.Contains(body["error"].(string), "compacted"), body)
	code, _ = k.do("GET", "/api/children?path=/&rev="+itoa(r1), nil, nil)
	assert.Equal(t, code, http.StatusGone)
	k.ok("GET", "/api/history?path=/pb/x", nil, &h)
	assert.Equal(t, h.Compact, r4-1)
	assert.Equal(t, len(h.Versions), 1)
}

func TestEventsStreamChanges(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	rev := k.put("/pb/a", "1")
	s := k.events(rev)
	name, data := s.next(t)
	assert.Equal(t, name, "revision")
	assert.Equal(t, data, itoa(rev))
	k.put("/pb/deep/er/key", "<script>alert(1)</script>")
	name, data = s.next(t)
	assert.Equal(t, name, "change")
	assert.Assert(t, strings.Contains(data, `"path":"/pb/deep/er/key"`), data)
	// Values are not streamed: the page reads them as text.
	assert.Assert(t, !strings.Contains(data, "script"), data)
	code, _ := k.do("GET", "/api/events?from=x", nil, nil)
	assert.Equal(t, code, http.StatusBadRequest)
}

func TestCloseEndsTheEventStreams(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	s := k.events(0)
	s.next(t)
	assert.NilError(t, k.ui.Close())
	_, err := s.r.ReadString('\n')
	for err == nil {
		_, err = s.r.ReadString('\n')
	}
	// A stream asked for after Close is refused, not left running.
	code, _ := k.do("GET", "/api/events?from=0", nil, nil)
	assert.Equal(t, code, http.StatusServiceUnavailable)
}

func TestLoginSessions(t *testing.T) {
	k := newConsole(t, nil, ui.Options{Password: "s3cret-Pass"})
	code, _ := k.do("GET", "/api/session", nil, nil)
	assert.Equal(t, code, http.StatusUnauthorized)
	code, _ = k.do("GET", "/api/events?from=0", nil, nil)
	assert.Equal(t, code, http.StatusUnauthorized)
	// The page itself loads, to show the login form.
	resp, err := http.Get(k.srv.URL + "/")
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusOK)

	resp, err = k.jar.PostForm(k.srv.URL+"/login", url.Values{"password": {"wrong"}})
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusUnauthorized)
	resp, err = k.jar.PostForm(k.srv.URL+"/login", url.Values{"password": {"s3cret-Pass"}})
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusSeeOther)
	cookies := resp.Cookies()
	assert.Equal(t, len(cookies), 1)
	c := cookies[0]
	assert.Assert(t, c.HttpOnly)
	assert.Equal(t, c.SameSite, http.SameSiteStrictMode)
	assert.Assert(t, !strings.Contains(c.Value, "s3cret"))

	req, _ := http.NewRequest("GET", k.srv.URL+"/api/session", nil)
	req.AddCookie(c)
	resp, err = http.DefaultClient.Do(req)
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusOK)
}

func TestPageHeaders(t *testing.T) {
	k := newConsole(t, nil, ui.Options{})
	for _, p := range []string{"/", "/app.js", "/app.css"} {
		resp, err := http.Get(k.srv.URL + p)
		assert.NilError(t, err)
		resp.Body.Close()
		assert.Equal(t, resp.StatusCode, http.StatusOK, p)
		assert.Assert(t, strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'"), p)
		assert.Equal(t, resp.Header.Get("X-Content-Type-Options"), "nosniff")
	}
}

// TestEtcdPagesLeasesClusterOwnersControllers reads the pages that need
// etcd: leases with their keys, the cluster's endpoints, an owner key with
// its lease's TTL, and the controllers' state.
func TestEtcdPagesLeasesClusterOwnersControllers(t *testing.T) {
	e := sdptest.NewEtcd(t)
	ctx := sdptest.Context(t)
	c, err := config.Open(ctx, config.Options{Endpoints: e.Endpoints()})
	assert.NilError(t, err)
	defer c.Close()
	k := newConsole(t, c, ui.Options{})
	blocks := config.MustKind[map[string]any]("/pb")
	assert.NilError(t, c.Txn(ctx, func(tx *config.Txn) error {
		if err := blocks.Create(tx, "pb-1", map[string]any{"id": "pb-1"}); err != nil {
			return err
		}
		return blocks.TakeOwnership(tx, "pb-1", config.OwnerInfo{})
	}))
	var key struct {
		Owner      map[string]any
		OwnerLease string
		OwnerTTL   int64
	}
	k.ok("GET", "/api/key?path=/pb/pb-1", nil, &key)
	assert.Equal(t, key.Owner["hostname"], c.Owner().Hostname)
	assert.Assert(t, key.OwnerLease != "" && key.OwnerTTL > 0, "%+v", key)

	var leases []struct {
		ID   string
		TTL  int64
		Keys []string
	}
	k.ok("GET", "/api/leases", nil, &leases)
	assert.Equal(t, len(leases), 1)
	assert.Equal(t, leases[0].ID, key.OwnerLease)
	assert.DeepEqual(t, leases[0].Keys, []string{"/pb/pb-1/owner"})

	var cl struct {
		Backend   string
		Revision  int64
		Endpoints []struct {
			Leader bool
			Error  string
		}
	}
	k.ok("GET", "/api/cluster", nil, &cl)
	assert.Equal(t, cl.Backend, "etcd3")
	assert.Equal(t, len(cl.Endpoints), 1)
	assert.Assert(t, cl.Endpoints[0].Leader, "%+v", cl)

	assert.NilError(t, c.Txn(ctx, func(tx *config.Txn) error {
		_, err := netobj.Paths{}.PutDesired(tx, "host-1", "", netobj.Interface("br0", netobj.TypeBridge))
		return err
	}))
	var ctl struct {
		Topology []any
		Datasync []any
		Netobj   []netobj.StatusRow
	}
	k.ok("GET", "/api/controllers", nil, &ctl)
	assert.Equal(t, len(ctl.Topology), 0)
	assert.Equal(t, len(ctl.Datasync), 0)
	assert.DeepEqual(t, ctl.Netobj, []netobj.StatusRow{{Target: "host-1", Kind: netobj.KindInterface, ID: "br0", Desired: true, State: "pending"}})
}

type limited struct {
	N int `json:"n"`
}

func (l limited) Validate() error {
	if l.N > 10 {
		return errors.New("n is at most 10")
	}
	return nil
}

func TestPutChecksRegisteredKinds(t *testing.T) {
	k := newConsole(t, nil, ui.Options{Kinds: []ui.Checker{config.MustKind[limited]("/lim")}})
	code, body := k.do("PUT", "/api/key?path=/lim/a", map[string]any{"value": `{"n": 11}`, "modRevision": 0}, nil)
	assert.Equal(t, code, http.StatusBadRequest)
	assert.Assert(t, strings.Contains(body["error"].(string), "n is at most 10"), body)
	assert.Assert(t, strings.Contains(body["error"].(string), "/lim/a"), body)
	code, _ = k.do("PUT", "/api/key?path=/lim/a", map[string]any{"value": `{"n": "x"}`, "modRevision": 0, "raw": true}, nil)
	assert.Equal(t, code, http.StatusBadRequest)
	k.ok("PUT", "/api/key?path=/lim/a", map[string]any{"value": `{"n": 3}`, "modRevision": 0}, nil)
	k.ok("PUT", "/api/key?path=/lim/a/state", map[string]any{"value": `{"n": 99}`, "modRevision": 0}, nil)
}
