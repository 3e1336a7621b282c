package config

import (
	"encoding/json"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// goldenFloats are the float64 values whose text must be what Python's
// repr(float) writes: whole numbers, both notations and their boundaries,
// subnormals, the extremes, negative zero and 2^53 neighbours.
var goldenFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 2, 10, 100, 21600, 1e3, 1.5,
	0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, math.Pi, math.E, -2.5, 123.456, 99999.999,
	1e-4, 1e-5, 1e-7, 2e-7, 1.5e-7, 0.00001, 1e-300, 5e-324, 2.2250738585072014e-308, math.SmallestNonzeroFloat64 * 3,
	1e15, 999999999999999.9, 1e16, 1.25e16, 1e21, 1e22, -1e22, 1e100, 1.5e300, math.MaxFloat64,
	-math.MaxFloat64, 1 << 53, 1<<53 + 2, 1<<53 - 1, 1 << 62, 9007199254740993, 4.35, 0.5, 1e-10, 12345678.9,
}

// floatDoc holds floats in every place a typed entity can: fields, maps,
// slices, pointers, interfaces and nested structs.
type floatDoc struct {
	Plain  float64            `json:"plain"`
	Small  float32            `json:"small"`
	List   []float64          `json:"list"`
	ByName map[string]float64 `json:"by_name"`
	Ptr    *float64           `json:"ptr"`
	Any    any                `json:"any"`
	Inner  struct {
		Deep []map[string]any `json:"deep"`
	} `json:"inner"`
	Count int `json:"count"`
}

// TestMarshalFloatsAsPython checks that a Go float is written as Python
// writes the same float: Python builds the same document from the floats'
// bits and dumps it; the two texts must be equal byte for byte.
func TestMarshalFloatsAsPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: cannot compare with Python's json module")
	}
	hexes := make([]string, len(goldenFloats))
	for i, f := range goldenFloats {
		hexes[i] = strconv.FormatFloat(f, 'x', -1, 64)
	}
	for i, f := range goldenFloats {
		p := f
		var d floatDoc
		d.Plain, d.Small, d.Ptr, d.Any, d.Count = f, 1.5, &p, f, 7
		d.List = []float64{f, -f}
		d.ByName = map[string]float64{"x": f}
		d.Inner.Deep = []map[string]any{{"v": f, "w": []any{f, 3}}}
		got, err := Marshal(d)
		assert.NilError(t, err)
		script := `
import json, sys
f = float.fromhex(sys.argv[1])
d = {"plain": f, "small": 1.5, "list": [f, -f], "by_name": {"x": f}, "ptr": f, "any": f,
     "inner": {"deep": [{"v": f, "w": [f, 3]}]}, "count": 7}
sys.stdout.write(json.dumps(d, ensure_ascii=False, indent=2, separators=(",", ": "), sort_keys=True))
`
		out, err := exec.Command(py, "-c", script, hexes[i]).Output()
		assert.NilError(t, err)
		assert.Equal(t, got, string(out), "float %v (%s)", f, hexes[i])
	}
}

// TestReadPythonNonFinite reads what Python writes for NaN and the
// infinities, into float64 and into any; writing them fails, naming the
// field, rather than storing text other JSON readers refuse.
func TestReadPythonNonFinite(t *testing.T) {
	const stored = `{
  "a": NaN,
  "b": Infinity,
  "c": -Infinity,
  "s": "NaN Infinity",
  "l": [NaN, 1.0]
}`
	type doc struct {
		A, B, C float64
		S       string
		L       []float64
	}
	d, err := decode[doc]("/x", stored)
	assert.NilError(t, err)
	assert.Assert(t, math.IsNaN(d.A))
	assert.Equal(t, d.B, math.Inf(1))
	assert.Equal(t, d.C, math.Inf(-1))
	assert.Equal(t, d.S, "NaN Infinity")
	assert.Assert(t, math.IsNaN(d.L[0]))
	m, err := decode[map[string]any]("/x", stored)
	assert.NilError(t, err)
	assert.Assert(t, math.IsNaN(m["a"].(float64)))
	assert.Equal(t, m["c"], math.Inf(-1))
	assert.Equal(t, m["l"].([]any)[1], json.Number("1.0"))

	_, err = Marshal(d)
	assert.ErrorContains(t, err, "NaN")
	_, err = Marshal(map[string]any{"k": math.Inf(1)})
	assert.ErrorContains(t, err, "/k")
	assert.Assert(t, strings.Contains(err.Error(), "Infinity") || strings.Contains(err.Error(), "+Inf"), err)
}

// TestMarshalNamedFloat writes a named float type as a float too, and
// leaves a type's own MarshalJSON alone.
func TestMarshalNamedFloat(t *testing.T) {
	type ratio float64
	got, err := Marshal(map[string]any{"r": ratio(2), "l": []ratio{1, 0.5}, "own": ownFloat(3)})
	assert.NilError(t, err)
	assert.Equal(t, got, "{\n  \"l\": [\n    1.0,\n    0.5\n  ],\n  \"own\": \"three\",\n  \"r\": 2.0\n}")
}

// ownFloat is a float type with its own encoding.
type ownFloat float64

func (ownFloat) MarshalJSON() ([]byte, error) { return []byte(`"three"`), nil }
