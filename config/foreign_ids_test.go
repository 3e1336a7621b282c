package config_test

import (
	"context"
	"encoding/json"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestForeignIDsReadable reads keys another program wrote as
// ska-sdp-config writes them (ids verbatim, with spaces and "%"), through
// etcdctl on Debian's etcd: every one is readable by path and by id, and
// the collection lists whole. What Go writes for the same ids lands on the
// same keys.
func TestForeignIDsReadable(t *testing.T) {
	d := sdptest.NewDebianEtcd(t)
	ids := []string{"sub 01", "a%b", "50%", "x:y", "%zz"}
	for _, id := range ids {
		d.Etcdctl(t, "put", "2/subarray/"+id, `{"id": "`+id+`", "ratio": 1.0}`)
	}
	cfg := config.New(d.Backend(t, etcd3.Config{}), config.Options{})
	t.Cleanup(func() { cfg.Close() })
	type subarray struct {
		ID    string  `json:"id"`
		Ratio float64 `json:"ratio"`
	}
	kind := config.MustKind[subarray]("/subarray")
	ctx := context.Background()
	err := cfg.Txn(ctx, func(tx *config.Txn) error {
		got, err := kind.List(tx)
		assert.NilError(t, err)
		assert.DeepEqual(t, got, []string{"%zz", "50%", "a%b", "sub 01", "x:y"})
		for _, id := range ids {
			v, err := kind.Get(tx, id)
			assert.NilError(t, err, id)
			assert.Equal(t, v.ID, id)
			raw, ok, err := tx.Get("/subarray/" + id)
			assert.NilError(t, err, id)
			assert.Assert(t, ok, id)
			assert.Assert(t, json.Valid([]byte(raw)), raw)
		}
		return kind.Create(tx, "sub 02", subarray{ID: "sub 02", Ratio: 2})
	})
	assert.NilError(t, err)
	assert.Equal(t, d.Etcdctl(t, "get", "--print-value-only", "2/subarray/sub 02"), "{\n  \"id\": \"sub 02\",\n  \"ratio\": 2.0\n}\n")
}
