package etcd3_test

import (
	"context"
	"fmt"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestRevisionLinearizable writes through one member and asks another for
// the revision at once: Revision is linearizable, never behind a write
// already acknowledged.
func TestRevisionLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-member cluster")
	}
	c := sdptest.NewCluster(t, 3)
	var bs []*etcd3.Backend
	for i := range 3 {
		bs = append(bs, c.Member(i).Backend(t, etcd3.Config{}))
	}
	ctx := context.Background()
	for i := range 300 {
		w, r := bs[i%3], bs[(i+1)%3]
		res, err := w.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put(fmt.Sprintf("/r/%d", i), "v", backend.NoLease)}})
		assert.NilError(t, err)
		rev, err := r.Revision(ctx)
		assert.NilError(t, err)
		assert.Assert(t, rev >= res.Revision, "write %d acknowledged at revision %d by member %d; member %d says %d", i, res.Revision, i%3, (i+1)%3, rev)
	}
}
