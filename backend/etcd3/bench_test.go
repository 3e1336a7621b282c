package etcd3_test

import (
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// The benchmarks compare the backend with the bare etcd client doing the
// same request on the same embedded server, so that their ratio is the
// backend's overhead (validation, key encoding, request context, error
// mapping):
//
//	go test -run '^$' -bench . -benchtime=1s ./backend/etcd3/

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	e := sdptest.NewEtcd(b)
	be := e.Backend(b, etcd3.Config{})
	cli := e.Client(b)
	if _, err := be.Create(ctx, "/bench/x", "some value", backend.NoLease); err != nil {
		b.Fatal(err)
	}
	b.Run("backend", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := be.Get(ctx, "/bench/x", 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clientv3", func(b *testing.B) {
		for b.Loop() {
			resp, err := cli.Get(ctx, "2/bench/x")
			if err != nil || len(resp.Kvs) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	e := sdptest.NewEtcd(b)
	be := e.Backend(b, etcd3.Config{})
	cli := e.Client(b)
	t := backend.Txn{Then: []backend.Op{backend.Put("/bench/x", "some value", backend.NoLease)}}
	b.Run("backend", func(b *testing.B) {
		for b.Loop() {
			if _, err := be.Commit(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clientv3", func(b *testing.B) {
		for b.Loop() {
			if _, err := cli.Txn(ctx).Then(clientv3.OpPut("2/bench/x", "some value")).Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
