package topology

import (
	"errors"
	"testing"

	"gotest.tools/v3/assert"
)

func TestHashIgnoresOrderAndVolatileFields(t *testing.T) {
	a := map[string]any{
		"name":       "t1",
		"lans":       []any{map[string]any{"id": "lan-1", "cidr": "10.0.0.0/24", "x": 10, "y": 20, "status": "up"}},
		"updated_at": "2024-01-01",
		"nested":     map[string]any{"deep": map[string]any{"timestamp": 5, "keep": 1.5}},
	}
	b := map[string]any{
		"nested":     map[string]any{"deep": map[string]any{"keep": 1.5, "timestamp": 99}},
		"lans":       []any{map[string]any{"cidr": "10.0.0.0/24", "id": "lan-1", "position": "left"}},
		"name":       "t1",
		"created_at": "yesterday",
	}
	ha, err := Hash(a)
	assert.NilError(t, err)
	hb, err := Hash(b)
	assert.NilError(t, err)
	assert.Equal(t, ha, hb)
	assert.Equal(t, len(ha), 64)
	// A meaningful field changes the hash, at any depth.
	b["nested"].(map[string]any)["deep"].(map[string]any)["keep"] = 2.5
	hc, _ := Hash(b)
	assert.Assert(t, hc != ha)
	// Known value: {"a":1} canonical text.
	h, _ := Hash(map[string]any{"a": 1, "status": "x"})
	assert.Equal(t, h, "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862") // sha256 of {"a":1}
}

func TestVerify(t *testing.T) {
	spec := map[string]any{"a": "b"}
	h, _ := Hash(spec)
	assert.NilError(t, Verify(spec, h))
	err := Verify(spec, "deadbeef")
	assert.Assert(t, errors.Is(err, ErrHashMismatch))
	assert.ErrorContains(t, err, "deadbeef")
	assert.ErrorContains(t, err, h)
}
