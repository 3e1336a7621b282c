package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	"sigs.k8s.io/yaml"
)

func TestLs(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "{}", "/pb/x-1", "v1", "/pb/x/state", `{"status": "RUNNING"}`,
		"/a/b/c/d", "deep", "/notes", "n")

	assert.Equal(t, h.ok("ls", "/"), "/a/\n/notes\n/pb/\n")
	// A key, a sibling that sorts between it and its subtree, the subtree.
	assert.Equal(t, h.ok("ls", "/pb"), "/pb/x\n/pb/x-1\n/pb/x/\n")
	assert.Equal(t, h.ok("ls", "/pb/"), "/pb/x\n/pb/x-1\n/pb/x/\n")
	assert.Equal(t, h.ok("ls", "--depth", "2", "/"), "/a/b/\n/notes\n/pb/x\n/pb/x-1\n/pb/x/\n")
	assert.Equal(t, h.ok("ls", "-R", "/"), "/a/b/c/d\n/notes\n/pb/x\n/pb/x-1\n/pb/x/state\n")
	assert.Equal(t, h.ok("ls", "-R", "/pb/x"), "/pb/x/state\n")
	wantError(t, h.run("ls", "/nothing"), exitNotFound, "ls /nothing: nothing at or below it")
	assert.Equal(t, h.ok("ls", "-R", "--values", "/pb"), "/pb/x  {}\n/pb/x-1  v1\n/pb/x/state  {\"status\":\"RUNNING\"}\n")

	var items []kvItem
	assert.NilError(t, json.Unmarshal([]byte(h.ok("ls", "-o", "json", "--values", "/pb")), &items))
	assert.Equal(t, len(items), 3)
	assert.Equal(t, items[0].Path, "/pb/x")
	assert.Equal(t, *items[0].Value, "{}")
	assert.Assert(t, items[0].ModRevision > 0)
	assert.Equal(t, items[2].Path, "/pb/x/")
	assert.Assert(t, items[2].Dir && items[2].Value == nil)
	assert.Equal(t, h.ok("ls", "-o", "json", "/pb/x-1"), "[]\n")

	var yitems []kvItem
	assert.NilError(t, yaml.Unmarshal([]byte(h.ok("ls", "-o", "yaml", "-R", "/pb")), &yitems))
	assert.Equal(t, len(yitems), 3)
	assert.Equal(t, yitems[2].Path, "/pb/x/state")
	assert.Equal(t, h.ok("ls", "-o", "yaml", "/pb/x-1"), "[]\n")
}

func TestLsAtRevisionAndWithPrefix(t *testing.T) {
	h := newHarness(t)
	rev := h.put("/sdp/pb/a", "1")
	h.put("/sdp/pb/b", "2")
	assert.Equal(t, h.ok("--prefix", "/sdp", "ls", "/pb"), "/pb/a\n/pb/b\n")
	assert.Equal(t, h.ok("--prefix", "/sdp", "ls", "--rev", fmt.Sprint(rev), "/pb"), "/pb/a\n")
	assert.Equal(t, h.ok("ls", "/"), "/sdp/\n")
}

func TestLsPagesThroughLargeTrees(t *testing.T) {
	h := newHarness(t)
	// More keys than a page, children interleaved with subtrees so that
	// skipped subtrees span page boundaries.
	var want, wantR []string
	for i := 0; i < 2*pageSize+300; i++ {
		p := fmt.Sprintf("/t/k%05d", i)
		h.put(p, "v")
		want, wantR = append(want, p), append(wantR, p)
		if i%500 == 0 {
			for j := 0; j < pageSize+10; j++ {
				h.put(fmt.Sprintf("%s/sub/%05d", p, j), "s")
			}
			want = append(want, p+"/")
		}
	}
	got := strings.Split(strings.TrimSuffix(h.ok("ls", "/t"), "\n"), "\n")
	assert.DeepEqual(t, got, sortedPaths(want))
	r := h.ok("ls", "-R", "/t")
	assert.Equal(t, strings.Count(r, "\n"), len(wantR)+5*(pageSize+10))
}

// sortedPaths sorts ls output lines as ls does: by path, a subtree "p/" at
// the place of its first key "p/...".
func sortedPaths(ps []string) []string {
	out := append([]string(nil), ps...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestGet(t *testing.T) {
	h := newHarness(t)
	r1 := h.put("/pb/x", "one")
	h.put("/pb/x", "two\n")
	assert.Equal(t, h.ok("get", "/pb/x"), "two\n")
	assert.Equal(t, h.ok("get", "--rev", fmt.Sprint(r1), "/pb/x"), "one\n")

	var it kvItem
	assert.NilError(t, json.Unmarshal([]byte(h.ok("get", "-o", "json", "/pb/x")), &it))
	assert.Equal(t, it.Path, "/pb/x")
	assert.Equal(t, *it.Value, "two\n")
	assert.Equal(t, it.Version, int64(2))
	assert.Equal(t, it.CreateRevision, r1)
	assert.NilError(t, yaml.Unmarshal([]byte(h.ok("get", "-o", "yaml", "/pb/x")), &it))
	assert.Equal(t, *it.Value, "two\n")

	wantError(t, h.run("get", "/pb/y"), exitNotFound, "get /pb/y: key not found", "sdpcfg ls /pb")
	wantError(t, h.run("get", "--rev", "999", "/pb/x"), exitError, "get /pb/x", "revision is in the future")
}
