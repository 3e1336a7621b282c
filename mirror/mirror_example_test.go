package mirror_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/mirror"
)

// printer is a Handler that prints its callbacks.
var printer = mirror.HandlerFuncs{
	AddFunc: func(kv backend.KeyValue) error {
		fmt.Printf("add %s = %s\n", kv.Path, kv.Value)
		return nil
	},
	ChangeFunc: func(old, new backend.KeyValue) error {
		fmt.Printf("change %s: %s -> %s\n", new.Path, old.Value, new.Value)
		return nil
	},
	DeleteFunc: func(old backend.KeyValue) error {
		fmt.Printf("delete %s (was %s)\n", old.Path, old.Value)
		return nil
	},
	RefreshDoneFunc: func(v mirror.View) error {
		fmt.Printf("up to date: %d keys\n", v.Len())
		return nil
	},
}

// A Mirror follows every key under a prefix. WaitForRevision gives
// read-your-writes: once it returns, the callbacks and the view have seen
// the write.
func ExampleMirror() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	b.Create(ctx, "/pb/pb-1", "READY", backend.NoLease)
	rev, _ := b.Create(ctx, "/pb/pb-2", "READY", backend.NoLease)
	b.Create(ctx, "/eb/eb-1", "elsewhere", backend.NoLease)

	m, err := mirror.NewMirror(b, "/pb/", printer, mirror.MirrorOptions{Mode: mirror.RefreshAndPersist})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	m.WaitForRevision(ctx, rev) // the refresh is done

	rev, _ = b.Update(ctx, "/pb/pb-1", "RUNNING")
	m.WaitForRevision(ctx, rev)
	res, _ := b.Delete(ctx, "/pb/pb-2", backend.DeleteOptions{})
	m.WaitForRevision(ctx, res.Revision)

	kv, _ := m.View().Get("/pb/pb-1")
	fmt.Println("view:", kv.Path, "=", kv.Value)
	m.Stop()
	fmt.Println("Run:", <-done)
	// Output:
	// add /pb/pb-1 = READY
	// add /pb/pb-2 = READY
	// up to date: 2 keys
	// change /pb/pb-1: READY -> RUNNING
	// delete /pb/pb-2 (was READY)
	// view: /pb/pb-1 = RUNNING
	// Run: <nil>
}

// With a state file, a Mirror restarted later resumes where it stopped: it
// reports only what changed meanwhile, without listing the prefix again.
func ExampleMirror_stateFile() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	dir, _ := os.MkdirTemp("", "mirror-example")
	defer os.RemoveAll(dir)
	opts := mirror.MirrorOptions{Mode: mirror.RefreshOnly, StatePath: filepath.Join(dir, "pb.mirror")}

	b.Create(ctx, "/pb/pb-1", "READY", backend.NoLease)
	b.Create(ctx, "/pb/pb-2", "READY", backend.NoLease)
	m, _ := mirror.NewMirror(b, "/pb/", printer, opts)
	fmt.Println("first run:", m.Run(ctx))

	b.Update(ctx, "/pb/pb-2", "DONE")
	b.Create(ctx, "/pb/pb-3", "READY", backend.NoLease)
	m, _ = mirror.NewMirror(b, "/pb/", printer, opts)
	fmt.Println("second run:", m.Run(ctx))
	// Output:
	// add /pb/pb-1 = READY
	// add /pb/pb-2 = READY
	// up to date: 2 keys
	// first run: <nil>
	// change /pb/pb-2: READY -> DONE
	// add /pb/pb-3 = READY
	// up to date: 3 keys
	// second run: <nil>
}
