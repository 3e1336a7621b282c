package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"gotest.tools/v3/assert"
)

func TestHashIgnoresOrderAndVolatilePaths(t *testing.T) {
	a := map[string]any{
		"name":       "t1",
		"lans":       []any{map[string]any{"id": "lan-1", "cidr": "10.0.0.0/24", "x": 10, "y": 20}},
		"updated_at": "2024-01-01",
		"nested":     map[string]any{"deep": map[string]any{"keep": 1.5}},
	}
	b := map[string]any{
		"nested":     map[string]any{"deep": map[string]any{"keep": 1.5}},
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
	h, _ := Hash(map[string]any{"a": 1, "updated_at": "x"})
	assert.Equal(t, h, "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862") // sha256 of {"a":1}
}

// Volatile fields are paths, not names matched at any depth: a desired
// "status" that changes is a change, wherever it is; a deployment can
// name its own paths.
func TestVolatileFieldsArePaths(t *testing.T) {
	running := map[string]any{"status": "running", "nodes": []any{map[string]any{"name": "n1", "status": "running", "x": 1}}}
	stopped := map[string]any{"status": "stopped", "nodes": []any{map[string]any{"name": "n1", "status": "stopped", "x": 2}}}
	h1, _ := Hash(running)
	h2, _ := Hash(stopped)
	assert.Assert(t, h1 != h2, "a change of status hashes the same")
	// Only the node's status differs now: still a change...
	stopped["status"] = "running"
	h3, _ := Hash(stopped)
	assert.Assert(t, h3 != h1)
	// ... unless this deployment says node statuses are volatile.
	paths := append([]string{"nodes/*/status"}, DefaultVolatilePaths...)
	h4, err := HashWith(running, paths)
	assert.NilError(t, err)
	h5, _ := HashWith(stopped, paths)
	assert.Equal(t, h4, h5)
	_, err = HashWith(running, []string{""})
	assert.ErrorContains(t, err, "an empty volatile path")
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

// The hash is defined on numbers' values, not their text: every spelling
// of one value hashes the same, and different values differ.
func TestHashOfNumbersIsByValue(t *testing.T) {
	same := [][]string{
		{"0.00001", "1e-05", "1E-5", "0.000010", "10e-6"},
		{"1.5", "1.50", "15e-1", "0.15e1"},
		{"1000", "1e3", "1E+3", "1000.0", "1.000e3"},
		{"2e-7", "2E-7", "0.0000002"},
		{"0", "-0", "0.0", "0e10"},
		{"1", "1.0", "1e0", "100e-2"},
		{"-3.25", "-325e-2"},
		{"1e300", "10e299"},
		{"123456789012345678901234567890", "1.23456789012345678901234567890e29"},
	}
	hashOf := func(num string) string {
		t.Helper()
		var spec map[string]any
		assert.NilError(t, json.Unmarshal([]byte(`{"v": `+num+`}`), &spec))
		h, err := Hash(spec)
		assert.NilError(t, err)
		return h
	}
	var classes []string
	for _, group := range same {
		h := hashOf(group[0])
		for _, n := range group[1:] {
			assert.Equal(t, hashOf(n), h, "%s and %s", group[0], n)
		}
		classes = append(classes, h)
	}
	for i := range classes {
		for j := i + 1; j < len(classes); j++ {
			assert.Assert(t, classes[i] != classes[j], "%s and %s hash the same", same[i][0], same[j][0])
		}
	}
	for in, want := range map[string]string{
		"1e-05": "0.00001", "1.50": "1.5", "1e3": "1000", "-0": "0", "2E-7": "0.0000002",
		"1e300": "1e+300", "1.5e-50": "1.5e-50", "12.5e1": "125",
	} {
		assert.Equal(t, canonicalNumber(in), want, in)
	}
}

// A spec pushed with decimal numbers verifies after the round trip
// through the store, which writes numbers as Python prints them (1e-05):
// the agent would otherwise refuse the push for good.
func TestPushedNumbersVerifyAfterTheStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		for i, v := range []any{0.00001, 1.50, 1e3, 2e-7, 1e21, 123.456, -0.5, 3} {
			agent := fmt.Sprintf("a%d", i)
			if _, err := Push(ctx, cfg, agent, "t", map[string]any{"loss": v, "nested": []any{map[string]any{"ratio": v}}}); err != nil {
				t.Fatal(err)
			}
			var d Desired
			err := cfg.Txn(ctx, func(t *config.Txn) error {
				var err error
				d, err = DesiredTopologies.Get(t, agent)
				return err
			})
			assert.NilError(t, err)
			assert.NilError(t, Verify(d.Spec, d.Hash), "%v as stored: %v", v, d.Spec["loss"])
		}
	})
}
