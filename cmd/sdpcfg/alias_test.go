package main

import (
	"os"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// The names etcdctl users reach for work: del and rm are delete, put
// writes a key whether or not it exists, as etcdctl put does.
func TestAliasesAndPut(t *testing.T) {
	h := newHarness(t)
	h.put("/a", "1", "/b", "2")
	assert.Equal(t, h.ok("del", "/a"), "deleted 1 key(s) at /a at revision 4\n")
	assert.Equal(t, h.ok("rm", "/b"), "deleted 1 key(s) at /b at revision 5\n")
	assert.Equal(t, h.ok("put", "/c", "new"), "put /c at revision 6\n")
	assert.Equal(t, h.ok("put", "/c", "again"), "put /c at revision 7\n")
	assert.Equal(t, h.ok("get", "/c"), "again\n")
	wantError(t, h.run("put", "/pb/x", "not json"), exitUsage, "/pb/x", "--raw")
	// The help lists the aliases, and help of an alias is the command's.
	assert.Assert(t, strings.Contains(h.ok("--help"), "delete (del, rm)"))
	assert.Equal(t, h.ok("help", "rm"), h.ok("delete", "--help"))
	// A typo still suggests the command.
	wantError(t, h.run("delet", "/a"), exitUsage, `did you mean "delete"`)
}

// --version works as a flag, as 'sdpcfg version' does.
func TestVersionFlag(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, h.ok("--version"), h.ok("version"))
}

// One rule for a path with nothing at or below it: every command that
// names it exits 3 with one line, as get and delete do; the root always
// exists. A key with no keys below it is something.
func TestNothingThereExitsNotFound(t *testing.T) {
	h := newHarness(t)
	h.put("/a", "1")
	for _, args := range [][]string{
		{"ls", "/missing"}, {"ls", "-R", "/missing"}, {"export", "/missing"},
		{"get", "/missing"}, {"delete", "/missing"}, {"delete", "-R", "--yes", "/missing"},
		{"ls", "/missing/"}, {"export", "/missing/"},
	} {
		wantError(t, h.run(args...), exitNotFound, "/missing")
	}
	assert.Equal(t, h.ok("ls", "/a"), "")
	assert.Equal(t, h.ok("ls", "/"), "/a\n")
	assert.Equal(t, h.ok("export", "/a"), "{\n  \"/a\": 1\n}\n")
	empty := newHarness(t)
	assert.Equal(t, empty.ok("ls", "/"), "")
}

// import checks values on typed paths as create does: nothing is written
// when one is not a JSON object, unless --raw.
func TestImportChecksTypedPaths(t *testing.T) {
	h := newHarness(t)
	file := t.TempDir() + "/tree.json"
	assert.NilError(t, os.WriteFile(file, []byte("{\n  \"/notes/a\": \"text\",\n  \"/pb/x\": \"not json\"\n}\n"), 0o600))
	wantError(t, h.run("create", "/pb/x", "not json"), exitUsage, "/pb/x", "--raw")
	wantError(t, h.run("import", file), exitUsage, "line 3", "/pb/x is not a JSON object", "--raw", "nothing was written")
	assert.Equal(t, h.run("get", "/notes/a").code, exitNotFound)
	assert.Equal(t, h.run("import", "--raw", file).code, 0)
	assert.Equal(t, h.ok("get", "/pb/x"), "not json\n")
}

// -q prints nothing for writes that succeed, as ska-sdp's CLI; errors
// still show.
func TestQuiet(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"-q", "create", "/a", "1"}, {"update", "-q", "/a", "2"}, {"-q", "put", "/b", "3"}, {"-q", "delete", "/b"}} {
		assert.Equal(t, h.ok(args...), "")
	}
	wantError(t, h.run("-q", "create", "/a", "1"), exitConflict, "already exists")
	assert.Equal(t, h.ok("-q", "get", "/a"), "2\n")
}
