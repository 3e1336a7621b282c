package backend_test

import (
	"context"
	"fmt"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

// A commit whose compare fails brings back the current state of the keys
// asked for, in the same round trip, when the backend is a CommitReader.
func ExampleCommitReader() {
	ctx := context.Background()
	var b backend.Backend = memory.New()
	defer b.Close()
	created, _ := b.Create(ctx, "/counter", "1", backend.NoLease)
	_, _ = b.Update(ctx, "/counter", "2") // someone else's write

	cr, ok := b.(backend.CommitReader)
	if !ok {
		return // read again with Get after a failed Commit
	}
	res, err := cr.CommitRead(ctx, backend.Txn{
		If:   []backend.Compare{{Range: backend.Key("/counter"), Target: backend.ModRevision, Op: backend.Equal, Value: created}},
		Then: []backend.Op{backend.Put("/counter", "2", backend.NoLease)},
	}, []string{"/counter", "/absent"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("succeeded:", res.Succeeded, "read:", res.Read, "at revision:", res.Revision)
	for _, kv := range res.KVs {
		fmt.Printf("%s = %s (mod revision %d)\n", kv.Path, kv.Value, kv.ModRevision)
	}
	// Output:
	// succeeded: false read: true at revision: 3
	// /counter = 2 (mod revision 3)
}
