package mirror

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"gotest.tools/v3/assert"
)

// TestPathIndex checks the chunked index against a sorted slice through
// random inserts and removes, with sequential loads and chunk splits.
func TestPathIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x pathIndex
	var want []string
	all := func() []string {
		var got []string
		x.ascend("", false, func(p string) bool { got = append(got, p); return true })
		return got
	}
	// In order, as a refresh delivers keys: full chunks.
	for i := 0; i < 3*chunkMax; i++ {
		p := fmt.Sprintf("/k%06d", i*10)
		x.insert(p)
		want = append(want, p)
	}
	assert.Equal(t, len(x.chunks), 3)
	for op := 0; op < 20000; op++ {
		p := fmt.Sprintf("/k%06d", rng.IntN(3*chunkMax*10+100))
		i, found := slices.BinarySearch(want, p)
		if found {
			x.remove(p)
			want = slices.Delete(want, i, i+1)
		} else {
			x.insert(p)
			want = slices.Insert(want, i, p)
		}
		if op%1000 == 0 {
			assert.DeepEqual(t, all(), want)
		}
	}
	assert.DeepEqual(t, all(), want)
	for _, ch := range x.chunks {
		assert.Assert(t, len(ch) > 0 && len(ch) <= chunkMax)
	}

	// ascend from a bound, inclusive or not, and stopping early.
	from := want[len(want)/2]
	var got []string
	x.ascend(from, true, func(p string) bool { got = append(got, p); return len(got) < 3 })
	i := len(want) / 2
	assert.DeepEqual(t, got, want[i:i+3])
	got = nil
	x.ascend(from, false, func(p string) bool { got = append(got, p); return len(got) < 3 })
	assert.DeepEqual(t, got, want[i+1:i+4])

	// Removing everything leaves no chunk.
	for _, p := range want {
		x.remove(p)
	}
	assert.Equal(t, len(x.chunks), 0)
	assert.Assert(t, len(all()) == 0)
}
