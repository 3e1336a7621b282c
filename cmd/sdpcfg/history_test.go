package main

import (
	"context"
	"encoding/json"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
)

// history lists every retained revision of a key, deletes included, from
// the oldest the store keeps.
func TestHistory(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", `{"a": 1}`, "/other", "o", "/pb/x", `{"a": 2}`)
	_, err := h.mem.Delete(context.Background(), "/pb/x", backend.DeleteOptions{})
	assert.NilError(t, err)
	h.put("/pb/x", `{"a": 3}`)
	assert.Equal(t, h.ok("history", "/pb/x"),
		"REVISION  TYPE    VERSION  LEASE  VALUE\n"+
			"2         PUT     1        -      {\"a\":1}\n"+
			"4         PUT     2        -      {\"a\":2}\n"+
			"5         DELETE  -        -      -\n"+
			"6         PUT     1        -      {\"a\":3}\n")
	var items []eventItem
	assert.NilError(t, json.Unmarshal([]byte(h.ok("history", "-o", "json", "/pb/x")), &items))
	assert.Equal(t, len(items), 4)
	assert.Equal(t, items[2].Type, "DELETE")
	assert.Equal(t, *items[3].Value, `{"a": 3}`)

	// After a compaction, from the oldest revision kept.
	assert.NilError(t, h.mem.Compact(context.Background(), 5))
	assert.Equal(t, h.ok("history", "/pb/x"),
		"REVISION  TYPE    VERSION  LEASE  VALUE\n"+
			"6         PUT     1        -      {\"a\":3}\n")
	wantError(t, h.run("history", "/never"), exitNotFound, "history /never", "no retained revision")
}

// diff shows what changed in a key's JSON between two revisions, or
// between a revision and now.
func TestDiff(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", `{"a": 1, "b": [1, 2], "c": "same"}`)
	h.put("/pb/x", `{"a": 2, "b": [1, 2], "c": "same"}`)
	want := "--- /pb/x at revision 2\n+++ /pb/x at revision 3\n" +
		"@@ -1,5 +1,5 @@\n {\n-  \"a\": 1,\n+  \"a\": 2,\n   \"b\": [\n     1,\n     2\n"
	assert.Equal(t, h.ok("diff", "--rev", "2", "--rev", "3", "/pb/x"), want)
	assert.Equal(t, h.ok("diff", "--rev", "2", "/pb/x"), want)
	assert.Equal(t, h.ok("diff", "--rev", "3", "/pb/x"), "")
	wantError(t, h.run("diff", "/pb/x"), exitUsage, "diff: want --rev")
	wantError(t, h.run("diff", "--rev", "1", "--rev", "1", "/pb/x"), exitNotFound, "/pb/x", "neither revision 1 nor 1")
	// Absent at a revision: compared as empty.
	assert.Equal(t, h.ok("diff", "--rev", "1", "--rev", "2", "/pb/x"), "--- /pb/x at revision 1\n+++ /pb/x at revision 2\n"+
		"@@ -0,0 +1,8 @@\n+{\n+  \"a\": 1,\n+  \"b\": [\n+    1,\n+    2\n+  ],\n+  \"c\": \"same\"\n+}\n")
}

func TestCompact(t *testing.T) {
	h := newHarness(t)
	h.put("/a", "1", "/a", "2", "/a", "3")
	assert.Equal(t, h.ok("compact", "3"), "compacted at revision 3\n")
	wantError(t, h.run("get", "--rev", "2", "/a"), exitError, "compacted")
	assert.Equal(t, h.ok("get", "/a"), "3\n")
	wantError(t, h.run("compact", "0"), exitUsage, `compact: revision "0": want a positive number`)
	wantError(t, h.run("compact", "99"), exitError, "compact 99", "future")
}
