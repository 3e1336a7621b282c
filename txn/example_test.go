package txn_test

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/txn"
)

// A transaction that moves one unit from one account to another, and one
// that reads both in one snapshot.
func Example() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()

	err := txn.Run(ctx, b, func(t *txn.Txn) error {
		if err := t.Create("/acct/alice", "10"); err != nil {
			return err
		}
		return t.Create("/acct/bob", "0")
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	transfer := func(t *txn.Txn) error {
		from, _, err := t.Get("/acct/alice")
		if err != nil {
			return err
		}
		to, _, err := t.Get("/acct/bob")
		if err != nil {
			return err
		}
		f, _ := strconv.Atoi(from)
		g, _ := strconv.Atoi(to)
		if f < 1 {
			return fmt.Errorf("alice has nothing left")
		}
		if err := t.Update("/acct/alice", strconv.Itoa(f-1)); err != nil {
			return err
		}
		t.OnCommit(func() { fmt.Println("transferred") })
		return t.Update("/acct/bob", strconv.Itoa(g+1))
	}
	if err := txn.Run(ctx, b, transfer); err != nil {
		fmt.Println(err)
		return
	}

	var st txn.Stats
	err = txn.Run(ctx, b, func(t *txn.Txn) error {
		kvs, err := t.ListValues("/acct/", txn.ListOptions{})
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			fmt.Println(kv.Path, kv.Value)
		}
		return nil
	}, txn.WithStats(&st))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("attempts:", st.Attempts)
	// Output:
	// transferred
	// /acct/alice 9
	// /acct/bob 1
	// attempts: 1
}
