package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestImportInterruptedCountsExactly interrupts an import of the built
// binary with SIGINT while its commits are in flight: the number of keys
// it reports written is the number in the store, and every key before the
// one it names is there.
func TestImportInterruptedCountsExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports 300,000 keys")
	}
	e := sdptest.NewEtcd(t)
	const n = 300_000
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "\"/k/%06d\": \"v\"", i)
	}
	b.WriteString("}")
	file := filepath.Join(t.TempDir(), "tree.json")
	assert.NilError(t, os.WriteFile(file, []byte(b.String()), 0o600))

	bin := binary{t: t, bin: buildBinary(t), env: cleanEnv("SDP_CONFIG_ENDPOINTS=" + e.Endpoints()[0])}
	cli := e.Client(t)
	count := func() int64 {
		resp, err := cli.Get(context.Background(), "2/k/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		assert.NilError(t, err)
		return resp.Count
	}
	cmd, _, errOut := bin.start("import", file)
	sdptest.WaitFor(t, "the import's first commits", func() bool { return count() > 0 })
	code := interrupt(t, cmd)
	stored := count()
	if stored == n {
		t.Skipf("the import of %d keys finished before the interrupt reached it", n)
	}
	assert.Equal(t, code, exitError, errOut.String())
	m := regexp.MustCompile(`\((\d+) of 300000 keys written, every key before "([^"]+)" among them`).FindStringSubmatch(errOut.String())
	assert.Assert(t, m != nil, "stderr: %s", errOut.String())
	reported, _ := strconv.ParseInt(m[1], 10, 64)
	assert.Equal(t, reported, stored, "keys reported written vs keys in the store")
	first, _ := strconv.Atoi(strings.TrimPrefix(m[2], "/k/"))
	resp, err := cli.Get(context.Background(), "2/k/", clientv3.WithRange("2/k/"+m[2][len("/k/"):]), clientv3.WithCountOnly())
	assert.NilError(t, err)
	assert.Equal(t, resp.Count, int64(first), "keys before %s", m[2])
}
