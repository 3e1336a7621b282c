package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// editor writes a shell script that edits its file argument with script
// (a shell snippet, the file in "$1") and sets it as the harness's $EDITOR.
func (h *harness) editor(script string) {
	h.t.Helper()
	p := filepath.Join(h.t.TempDir(), "editor.sh")
	assert.NilError(h.t, os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o700))
	h.vars["EDITOR"] = p
}

// keptFile returns the file an edit error says the edit is kept in.
func keptFile(t *testing.T, stderr string) string {
	t.Helper()
	m := regexp.MustCompile(`kept in (\S+?)[:;]?\s`).FindStringSubmatch(stderr + " ")
	assert.Assert(t, m != nil, stderr)
	t.Cleanup(func() { os.Remove(m[1]) })
	return m[1]
}

func TestEditJSONAsYAML(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "{\n  \"a\": 1.0,\n  \"big\": 12345678901234567890,\n  \"b\": {\n    \"c\": \"x\"\n  }\n}")
	// The editor sees YAML with a comment header; it changes one field.
	h.editor(`grep -q '^# /pb/x at revision 2, as YAML' "$1" || exit 9
sed -i 's/c: x/c: z/' "$1"`)
	assert.Equal(t, h.ok("edit", "/pb/x"), "updated /pb/x at revision 3\n")
	v, _ := h.value("/pb/x")
	// 1.0 is shown as 1 in YAML but keeps its text; the change is stored
	// as ska-sdp-config JSON.
	assert.Equal(t, v, "{\n  \"a\": 1.0,\n  \"b\": {\n    \"c\": \"z\"\n  },\n  \"big\": 12345678901234567890\n}")

	// A changed number is stored as the new number.
	h.editor(`sed -i 's/^a: 1$/a: 2.5/' "$1"`)
	h.ok("edit", "/pb/x")
	v, _ = h.value("/pb/x")
	assert.Assert(t, strings.Contains(v, `"a": 2.5,`), v)
}

func TestEditNoChangeOrEmptyWritesNothing(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "{\n  \"a\": 1\n}", "/notes/n", "text")
	rev := h.revision()
	h.editor("true")
	r := h.run("edit", "/pb/x")
	assert.Equal(t, r.code, 0)
	assert.Equal(t, r.err, "No changes to /pb/x; nothing written.\n")
	r = h.run("edit", "/notes/n")
	assert.Equal(t, r.err, "No changes to /notes/n; nothing written.\n")
	h.editor(`: > "$1"`)
	r = h.run("edit", "/pb/x")
	assert.Equal(t, r.code, 0)
	assert.Equal(t, r.err, "Edit of /pb/x cancelled: the file is empty; nothing written.\n")
	assert.Equal(t, h.revision(), rev)
}

func TestEditPlainText(t *testing.T) {
	h := newHarness(t)
	h.put("/notes/n", "old")
	// Editors add a final newline; the value had none, so it is dropped.
	h.editor(`printf 'new\n' > "$1"`)
	h.ok("edit", "/notes/n")
	v, _ := h.value("/notes/n")
	assert.Equal(t, v, "new")
	h.put("/notes/m", "with newline\n")
	h.editor(`printf 'changed\n' > "$1"`)
	h.ok("edit", "/notes/m")
	v, _ = h.value("/notes/m")
	assert.Equal(t, v, "changed\n")
}

func TestEditErrorsKeepTheEdit(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "{\n  \"a\": 1\n}")
	rev := h.revision()

	h.editor(`printf 'a: [1\nb: 2\n' > "$1"`)
	r := h.run("edit", "/pb/x")
	wantError(t, r, exitUsage, "edit /pb/x: YAML line 1: did not find expected", "nothing written", "your edit is kept in")
	b, err := os.ReadFile(keptFile(t, r.err))
	assert.NilError(t, err)
	assert.Equal(t, string(b), "a: [1\nb: 2\n")

	h.editor(`printf 'a: 1\na: 2\n' > "$1"`)
	wantError(t, h.run("edit", "/pb/x"), exitUsage, `line 2: key "a" already set in map`)
	h.editor(`printf -- '- 1\n' > "$1"`)
	wantError(t, h.run("edit", "/pb/x"), exitUsage, "/pb values are JSON objects")
	h.editor("exit 3")
	wantError(t, h.run("edit", "/pb/x"), exitError, "edit /pb/x: editor", "failed", "nothing written", "$EDITOR")
	wantError(t, h.run("edit", "/pb/nope"), exitNotFound, "edit /pb/nope: key not found", "sdpcfg create")
	assert.Equal(t, h.revision(), rev)
}

func TestEditConflictWritesNothing(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "{\n  \"a\": 1\n}")
	// Someone else writes the key while the editor is open: just before
	// the edit's commit.
	h.b = &hookBackend{Backend: h.mem, beforeCommit: func() {
		if _, err := h.mem.Update(context.Background(), "/pb/x", `{"other": true}`); err != nil {
			panic(err)
		}
	}}
	h.editor(`sed -i 's/a: 1/a: 2/' "$1"`)
	r := h.run("edit", "/pb/x")
	wantError(t, r, exitConflict, "edit /pb/x: the key was changed or deleted by someone else after revision 2", "nothing written", "sdpcfg edit /pb/x' again")
	v, _ := h.value("/pb/x")
	assert.Equal(t, v, `{"other": true}`)
	kept := keptFile(t, r.err)
	b, err := os.ReadFile(kept)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(b), "a: 2"))

	// The kept file can be fed back to update, as the message says.
	assert.Assert(t, strings.Contains(r.err, "sdpcfg update --yaml /pb/x - < "+kept), r.err)
	h.b = h.mem
	h.ok("update", "--yaml", "/pb/x", string(b))
	v, _ = h.value("/pb/x")
	assert.Equal(t, v, "{\n  \"a\": 2\n}")
}

func TestEditKeepsTheLease(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	l, err := h.mem.Lease(ctx, 60e9)
	assert.NilError(t, err)
	defer l.Revoke(ctx)
	_, err = h.mem.Create(ctx, "/notes/leased", "v", l.ID())
	assert.NilError(t, err)
	h.editor(`printf 'w' > "$1"`)
	h.ok("edit", "/notes/leased")
	kv, _, err := h.mem.Get(ctx, "/notes/leased", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "w")
	assert.Equal(t, kv.Lease, l.ID())
}
