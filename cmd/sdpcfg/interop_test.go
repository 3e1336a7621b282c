package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestInteropWithDebianEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Debian's etcd and builds the binary")
	}
	d := sdptest.NewDebianEtcd(t)
	endpoint := d.Endpoints()[0]
	b := binary{t: t, bin: buildBinary(t), env: cleanEnv("SDP_CONFIG_ENDPOINTS=" + endpoint)}

	// What sdpcfg writes, etcdctl reads under the depth-prefixed key.
	b.ok("create", "/pb/x", `{"b": [1, 2], "a": "ü"}`)
	assert.Equal(t, d.Etcdctl(t, "get", "--print-value-only", "2/pb/x"), "{\n  \"a\": \"ü\",\n  \"b\": [\n    1,\n    2\n  ]\n}\n")
	b.ok("--prefix", "/sdp", "create", "/pb/x/state", `{"status": "RUNNING"}`)
	assert.Equal(t, d.Etcdctl(t, "get", "--print-value-only", "4/sdp/pb/x/state"), "{\n  \"status\": \"RUNNING\"\n}\n")

	// And the other way round.
	d.Etcdctl(t, "put", "2/pb/y", "from etcdctl")
	d.Etcdctl(t, "put", "3/pb/y/state", `{"status": "WAITING"}`)
	assert.Equal(t, b.ok("get", "/pb/y"), "from etcdctl\n")
	// Ids as ska-sdp-config writes them, with a space or a "%".
	d.Etcdctl(t, "put", "2/sa/sub 01", "one")
	d.Etcdctl(t, "put", "2/sa/a%b", "two")
	assert.Equal(t, b.ok("get", "/sa/sub 01"), "one\n")
	assert.Equal(t, b.ok("get", "/sa/a%b"), "two\n")
	b.ok("delete", "-R", "--yes", "/sa")
	assert.Equal(t, b.ok("ls", "/pb"), "/pb/x\n/pb/y\n/pb/y/\n")
	assert.Equal(t, b.ok("ls", "-R", "--values", "/pb"), "/pb/x  {\"a\":\"ü\",\"b\":[1,2]}\n/pb/y  from etcdctl\n/pb/y/state  {\"status\":\"WAITING\"}\n")

	// Edits, deletes and watches work on the older server too.
	b.ok("update", "--raw", "/pb/y", "changed")
	assert.Equal(t, d.Etcdctl(t, "get", "--print-value-only", "2/pb/y"), "changed\n")
	st := b.ok("endpoint", "status")
	assert.Assert(t, strings.Contains(st, " 3.4."), st)
	// history and diff read what etcdctl and sdpcfg wrote, on 3.4 too.
	hist := b.ok("history", "/pb/y")
	assert.Assert(t, strings.Contains(hist, "PUT     1        -      from etcdctl\n"), hist)
	assert.Assert(t, strings.HasSuffix(hist, "PUT     2        -      changed\n"), hist)
	revs := regexp.MustCompile(`(?m)^(\d+) `).FindAllStringSubmatch(hist, -1)
	assert.Equal(t, len(revs), 2, hist)
	assert.Assert(t, strings.HasSuffix(b.ok("diff", "--rev", revs[0][1], "/pb/y"), "@@ -1,1 +1,1 @@\n-from etcdctl\n+changed\n"))
	eb := b
	script := filepath.Join(t.TempDir(), "ed.sh")
	assert.NilError(t, os.WriteFile(script, []byte("#!/bin/sh\nsed -i 's/WAITING/RUNNING/' \"$1\"\n"), 0o700))
	eb.env = append(append([]string(nil), b.env...), "EDITOR="+script)
	eb.ok("edit", "/pb/y/state")
	assert.Equal(t, d.Etcdctl(t, "get", "--print-value-only", "3/pb/y/state"), "{\n  \"status\": \"RUNNING\"\n}\n")
	out := b.ok("watch", "--prefix", "--rev", "1", "--count", "3", "/pb")
	assert.Equal(t, strings.Count(out, "PUT"), 3, out)

	// A tree exported from 3.4 imports back identically.
	tree := b.ok("export", "/pb")
	b.ok("delete", "-R", "--yes", "/pb")
	assert.Equal(t, d.Etcdctl(t, "get", "--prefix", "2/pb/"), "")
	// /pb/y holds text, not JSON: import refuses it on a typed path, as
	// create does, unless --raw.
	r := b.runIn(tree, "import", "-")
	assert.Equal(t, r.code, exitUsage, r.err)
	assert.Assert(t, strings.Contains(r.err, "/pb/y is not a JSON object"), r.err)
	r = b.runIn(tree, "import", "--raw", "-")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, b.ok("export", "/pb"), tree)
	assert.Equal(t, d.Etcdctl(t, "get", "--print-value-only", "2/pb/y"), "changed\n")

	// The demo runs on it (configured store: it cleans up after itself).
	checkDemoOutput(t, b.ok("demo"), 3)
}
