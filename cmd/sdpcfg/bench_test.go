package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
)

// benchKeys is the size of the tree the import benchmarks write.
const benchKeys = 100_000

// benchTree returns a JSON tree of benchKeys keys under root, and the
// same keys and values as paths and stored values.
func benchTree(root string) (string, []entry) {
	var b strings.Builder
	entries := make([]entry, 0, benchKeys)
	b.WriteString("{")
	for i := 0; i < benchKeys; i++ {
		p := fmt.Sprintf("%s/pb/pb-%06d/state", root, i)
		v := fmt.Sprintf("{\n  \"index\": %d,\n  \"status\": \"WAITING\"\n}", i)
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %q: {\"index\": %d, \"status\": \"WAITING\"}", p, i)
		entries = append(entries, entry{path: p, value: v})
	}
	b.WriteString("\n}\n")
	return b.String(), entries
}

// BenchmarkImport compares `sdpcfg import` of 100,000 keys (the whole
// command: parse, check, connect, commit in batches) with the same keys
// written by raw clientv3 transactions of the same batch size, on one
// embedded etcd in the same run. Run with -benchtime=1x.
func BenchmarkImport(b *testing.B) {
	e := sdptest.NewEtcd(b)
	ctx := context.Background()

	b.Run("sdpcfg", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			tree, _ := benchTree(fmt.Sprintf("/cli%d", i))
			env := newEnv(strings.NewReader(tree), io.Discard, io.Discard)
			env.getenv = func(k string) string {
				if k == "SDP_CONFIG_ENDPOINTS" {
					return e.Endpoints()[0]
				}
				return ""
			}
			b.StartTimer()
			if code := env.run(ctx, []string{"import", "--timeout", "30s", "-"}); code != 0 {
				b.Fatalf("import exited %d", code)
			}
		}
		b.ReportMetric(float64(benchKeys*b.N)/b.Elapsed().Seconds(), "keys/s")
	})

	b.Run("clientv3", func(b *testing.B) {
		cli := e.Client(b)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			_, entries := benchTree(fmt.Sprintf("/raw%d", i))
			b.StartTimer()
			ops := make([]clientv3.Op, 0, txn.DefaultMaxTxnOps)
			for start := 0; start < len(entries); start += txn.DefaultMaxTxnOps {
				ops = ops[:0]
				for _, en := range entries[start:min(start+txn.DefaultMaxTxnOps, len(entries))] {
					ops = append(ops, clientv3.OpPut(backend.EncodeKey(en.path), en.value))
				}
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(benchKeys*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
}
