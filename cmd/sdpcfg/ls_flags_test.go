package main

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// TestLsKeysOnlyValuesOnlyLimit checks the etcdctl-style output flags of
// ls and get: --keys-only, --print-value-only and --limit.
func TestLsKeysOnlyValuesOnlyLimit(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/a", `{"n":1}`, "/pb/b", "two\nlines", "/pb/c/state", "s")

	assert.Equal(t, h.ok("ls", "--keys-only", "/pb"), "/pb/a\n/pb/b\n/pb/c/\n")
	var keys []string
	assert.NilError(t, json.Unmarshal([]byte(h.ok("ls", "-R", "--keys-only", "-o", "json", "/pb")), &keys))
	assert.DeepEqual(t, keys, []string{"/pb/a", "/pb/b", "/pb/c/state"})

	// Values as stored, each ending with a newline, no subtree entries.
	assert.Equal(t, h.ok("ls", "--print-value-only", "/pb"), "{\"n\":1}\ntwo\nlines\n")
	assert.Equal(t, h.ok("ls", "-R", "--print-value-only", "/pb"), "{\"n\":1}\ntwo\nlines\ns\n")

	r := h.run("ls", "-R", "--limit", "2", "/pb")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, r.out, "/pb/a\n/pb/b\n")
	assert.Assert(t, strings.Contains(r.err, "ls /pb: showing the first 2 entries; there are more (raise --limit)"), r.err)
	r = h.run("ls", "-R", "--limit", "3", "/pb")
	assert.Equal(t, r.out, "/pb/a\n/pb/b\n/pb/c/state\n")
	assert.Equal(t, r.err, "")
	assert.NilError(t, json.Unmarshal([]byte(h.run("ls", "-R", "--limit", "1", "--keys-only", "-o", "json", "/pb").out), &keys))
	assert.DeepEqual(t, keys, []string{"/pb/a"})

	wantError(t, h.run("ls", "--limit", "-1", "/pb"), exitUsage, "ls: --limit -1: must not be negative")
	assert.Equal(t, h.ok("ls", "--limit", "0", "/pb"), "/pb/a\n/pb/b\n/pb/c/\n")
	wantError(t, h.run("ls", "--keys-only", "--values", "/pb"), exitUsage, "ls: --keys-only and --values: choose one")
	wantError(t, h.run("ls", "--keys-only", "--print-value-only", "/pb"), exitUsage, "ls: --keys-only and --print-value-only: choose one")
	wantError(t, h.run("ls", "--print-value-only", "-o", "json", "/pb"), exitUsage, "ls: --print-value-only prints raw values: drop -o json")

	assert.Equal(t, h.ok("get", "--print-value-only", "/pb/b"), "two\nlines\n")
	assert.Equal(t, h.ok("get", "--print-value-only", "-o", "json", "/pb/a"), "{\"n\":1}\n")
	assert.Equal(t, h.ok("get", "--keys-only", "/pb/a"), "/pb/a\n")
	wantError(t, h.run("get", "--keys-only", "/pb/nope"), exitNotFound, "get /pb/nope: key not found")
	wantError(t, h.run("get", "--keys-only", "--print-value-only", "/pb/a"), exitUsage, "get: --keys-only and --print-value-only: choose one")
}
