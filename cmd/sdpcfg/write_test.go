package main

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestCreateAndUpdate(t *testing.T) {
	h := newHarness(t)
	out := h.ok("create", "/notes/a", "hello")
	assert.Equal(t, out, "created /notes/a at revision 2\n")
	v, _ := h.value("/notes/a")
	assert.Equal(t, v, "hello")

	// A typed path: JSON object, stored as ska-sdp-config writes it.
	h.ok("create", "/pb/pb-1", `{"script":{"name":"vis","kind":"realtime"},"a":1.0}`)
	v, _ = h.value("/pb/pb-1")
	assert.Equal(t, v, "{\n  \"a\": 1.0,\n  \"script\": {\n    \"kind\": \"realtime\",\n    \"name\": \"vis\"\n  }\n}")

	// stdin.
	h.runIn("line1\nline2\n", "update", "/notes/a", "-")
	v, _ = h.value("/notes/a")
	assert.Equal(t, v, "line1\nline2\n")

	// --json on any path; --raw on a typed one.
	h.ok("update", "--json", "/notes/a", `[3, 1,2]`)
	v, _ = h.value("/notes/a")
	assert.Equal(t, v, "[\n  3,\n  1,\n  2\n]")
	h.ok("create", "--raw", "/pb/pb-2", "not json")
	v, _ = h.value("/pb/pb-2")
	assert.Equal(t, v, "not json")

	var it writeItem
	assert.NilError(t, json.Unmarshal([]byte(h.ok("create", "-o", "json", "/pb/pb-1/state", `{"status":"RUNNING"}`)), &it))
	assert.Equal(t, it.Action, "created")
	assert.Equal(t, it.Path, "/pb/pb-1/state")
	assert.Equal(t, it.Revision, h.revision())
}

func TestCreateAndUpdateErrors(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/pb-1", "{}")
	rev := h.revision()
	wantError(t, h.run("create", "/pb/pb-1", "{}"), exitConflict, "create /pb/pb-1: key already exists", "sdpcfg update")
	wantError(t, h.run("update", "/pb/nope", "{}"), exitNotFound, "update /pb/nope: key does not exist", "sdpcfg create")
	wantError(t, h.run("create", "/pb/pb-2", `{"a":`), exitUsage, "value for /pb/pb-2 is not valid JSON", "/pb values are JSON objects", "line 1", "--raw")
	wantError(t, h.run("create", "/pb/pb-2", `[1]`), exitUsage, "value for /pb/pb-2 is not a JSON object")
	wantError(t, h.run("create", "/eb/eb-1/state", `{} {}`), exitUsage, "text after the JSON value")
	wantError(t, h.run("create", "--json", "/x", "{\n  \"a\": 1,\n  \"b\" 2\n}"), exitUsage, "--json was given", "line 3, column 7")
	wantError(t, h.run("create", "--json", "--raw", "/x", "1"), exitUsage, "--json, --yaml and --raw exclude each other")
	wantError(t, h.runIn("\xff\xfe", "create", "/x", "-"), exitUsage, "not valid UTF-8")
	wantError(t, h.run("create", "/x"), exitUsage, "want PATH and VALUE")
	assert.Equal(t, h.revision(), rev, "a failed create or update wrote something")
}

func TestTypedPaths(t *testing.T) {
	for p, want := range map[string]bool{
		"/pb/x": true, "/pb/x/state": true, "/eb/x/owner": true, "/deploy/d": true,
		"/script/s": true, "/component/c": true,
		"/pb": false, "/pb/x/other": false, "/pb/x/state/y": false, "/notes/x": false,
	} {
		assert.Equal(t, isTyped(p), want, p)
	}
}

func TestDelete(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "1", "/pb/x/state", "2", "/pb/y", "3", "/other", "4")

	wantError(t, h.run("delete", "/pb/nope"), exitNotFound, "delete /pb/nope: key does not exist")
	assert.Equal(t, h.ok("delete", "/pb/x/state"), "deleted 1 key(s) at /pb/x/state at revision 6\n")
	_, ok := h.value("/pb/x/state")
	assert.Assert(t, !ok)

	// Recursive without a terminal: refuse unless --yes.
	rev := h.revision()
	wantError(t, h.run("delete", "-R", "/pb"), exitUsage, "stdin is not a terminal", "pass --yes")
	assert.Equal(t, h.revision(), rev)

	// On a terminal: ask, and do nothing unless the answer is yes.
	h.terminal = true
	r := h.runIn("n\n", "delete", "-R", "/pb")
	assert.Equal(t, r.code, 0)
	assert.Equal(t, r.err, "Delete /pb and everything below it (2 key(s))? [y/N] Nothing deleted.\n")
	assert.Equal(t, h.revision(), rev)
	r = h.runIn("y\n", "delete", "-R", "/pb")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, r.out, "deleted 2 key(s) at /pb at revision 7\n")
	h.terminal = false

	wantError(t, h.run("delete", "-R", "--yes", "/pb"), exitNotFound, "delete /pb: key does not exist")
	h.put("/a/b", "1", "/c", "2")
	assert.Equal(t, h.ok("delete", "-R", "--yes", "/"), "deleted 3 key(s) at / at revision 10\n")
	assert.Equal(t, h.ok("ls", "-R", "/"), "")
	wantError(t, h.run("delete", "/"), exitUsage, `invalid path "/"`)

	var it writeItem
	h.put("/z", "1")
	assert.NilError(t, json.Unmarshal([]byte(h.ok("delete", "-o", "json", "/z")), &it))
	assert.Equal(t, it.Keys, int64(1))
	assert.Assert(t, strings.Contains(h.ok("delete", "--help"), "--yes"))
}
