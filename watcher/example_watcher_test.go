package watcher_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

var errExampleDone = errors.New("example done")

// A watcher loop lists a range in each iteration: a key created in it, or
// a Trigger, runs the body again, and the body learns why.
func ExampleWatcher_Run() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	b.Create(ctx, "/pb/pb-1", "READY", backend.NoLease)

	w := watcher.New(b, watcher.Options{})
	err := w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
		var ids []string
		err := it.Txn(ctx, func(t *txn.Txn) error {
			var err error
			ids, err = t.List("/pb/", txn.ListOptions{})
			return err
		})
		if err != nil {
			return err
		}
		fmt.Println(it.N(), it.Reason(), ids)
		switch it.N() {
		case 1:
			// Someone else adds a processing block.
			b.Create(ctx, "/pb/pb-2", "READY", backend.NoLease)
		case 2:
			go w.Trigger()
		case 3:
			return errExampleDone
		}
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// 1 FirstRun [/pb/pb-1]
	// 2 Changed [/pb/pb-1 /pb/pb-2]
	// 3 Triggered [/pb/pb-1 /pb/pb-2]
	// Run: example done
}

// A level-triggered controller: it reads what is desired and what it
// last wrote, and writes only when they differ. Its own write wakes it
// once; then nothing changes until the timeout.
func ExampleIteration_Txn() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	b.Create(ctx, "/desired/replicas", "3", backend.NoLease)

	w := watcher.New(b, watcher.Options{Timeout: 50 * time.Millisecond})
	err := w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
		var desired, status string
		err := it.Txn(ctx, func(t *txn.Txn) error {
			var err error
			if desired, _, err = t.Get("/desired/replicas"); err != nil {
				return err
			}
			if status, _, err = t.Get("/status/replicas"); err != nil {
				return err
			}
			if status != desired {
				return t.Put("/status/replicas", desired)
			}
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Printf("%s: desired %s, status was %q\n", it.Reason(), desired, status)
		if it.Reason() == watcher.TimedOut {
			return errExampleDone
		}
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// FirstRun: desired 3, status was ""
	// Changed: desired 3, status was "3"
	// TimedOut: desired 3, status was "3"
	// Run: example done
}

// Loop is the watcher loop as a range-over-func iterator; breaking out of
// the range stops it.
func ExampleWatcher_Loop() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	w := watcher.New(b, watcher.Options{Timeout: 10 * time.Millisecond})
	for it, err := range w.Loop(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(it.N(), it.Reason())
		if it.N() == 3 {
			break
		}
	}
	fmt.Println("iterations:", w.Stats().Iterations)
	// Output:
	// 1 FirstRun
	// 2 TimedOut
	// 3 TimedOut
	// iterations: 3
}

type block struct {
	State string `json:"state"`
}

// Through config, a watcher's transactions are Config transactions, so
// typed entities work in them.
func Example_config() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	c := config.New(b, config.Options{})
	defer c.Close()
	blocks := config.MustKind[block]("/pb")
	c.Txn(ctx, func(t *config.Txn) error {
		return blocks.Create(t, "pb-1", block{State: "READY"})
	})

	w := c.Watcher(watcher.Options{})
	err := w.Run(ctx, func(ctx context.Context, it *config.Iteration) error {
		var pb block
		err := it.Txn(ctx, func(t *config.Txn) error {
			var err error
			pb, err = blocks.Get(t, "pb-1")
			return err
		})
		if err != nil {
			return err
		}
		fmt.Println(it.Reason(), pb.State)
		if pb.State == "FINISHED" {
			return errExampleDone
		}
		// Someone else moves the block on.
		return c.Txn(ctx, func(t *config.Txn) error {
			return blocks.Update(t, "pb-1", block{State: "FINISHED"})
		})
	})
	fmt.Println("Run:", err)
	// Output:
	// FirstRun READY
	// Changed FINISHED
	// Run: example done
}
