package memory

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// The chunked sorted set agrees with a plain sorted slice through random
// inserts and removes, across chunk splits and removals of whole chunks.
func TestSortedSetMatchesSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var s sortedSet
	ref := map[string]bool{}
	key := func() string {
		return "/k" + strings.Repeat("x", rng.Intn(3)) + string(rune('a'+rng.Intn(26))) + string(rune('a'+rng.Intn(26))) + string(rune('a'+rng.Intn(26)))
	}
	for i := 0; i < 20000; i++ {
		k := key()
		if rng.Intn(3) == 0 {
			s.remove(k)
			delete(ref, k)
		} else {
			s.insert(k)
			ref[k] = true
		}
	}
	want := make([]string, 0, len(ref))
	for k := range ref {
		want = append(want, k)
	}
	slices.Sort(want)
	assert.Equal(t, s.len(), len(want))
	assert.Assert(t, len(s.chunks) > 1, "splits happened")
	for _, c := range s.chunks {
		assert.Assert(t, len(c) > 0 && len(c) <= chunkMax)
	}

	var got []string
	s.ascend("", "/", func(p string) bool { got = append(got, p); return true })
	assert.DeepEqual(t, got, want)

	// A prefix scan from a point.
	got = nil
	s.ascend("/kxm", "/kx", func(p string) bool { got = append(got, p); return true })
	var wantSub []string
	for _, k := range want {
		if strings.HasPrefix(k, "/kx") && k >= "/kxm" {
			wantSub = append(wantSub, k)
		}
	}
	assert.DeepEqual(t, got, wantSub)

	// Stopping early.
	n := 0
	s.ascend("", "/", func(string) bool { n++; return n < 5 })
	assert.Equal(t, n, 5)

	for _, k := range want {
		s.remove(k)
	}
	assert.Equal(t, len(s.chunks), 0)
}

func TestIndexAfter(t *testing.T) {
	var x index
	for _, p := range []string{"/a", "/b", "/c", "/a/x"} {
		x.insert(p, strings.Count(p, "/"))
	}
	var got []string
	x.ascend(1, "/", "/a", func(p string) bool { got = append(got, p); return true })
	assert.DeepEqual(t, got, []string{"/b", "/c"})
	got = nil
	x.ascend(7, "/", "", func(p string) bool { got = append(got, p); return true })
	assert.Equal(t, len(got), 0)
}
