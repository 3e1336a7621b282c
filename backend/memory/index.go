package memory

import (
	"sort"
	"strings"
)

// chunkMax bounds the length of one chunk of a sortedSet: inserting or
// removing a path moves at most that many strings, plus one chunk pointer
// per chunkMax/2 paths when a chunk splits.
const chunkMax = 256

// sortedSet is a set of strings kept in order, as a list of sorted chunks:
// every path of chunks[i] sorts before every path of chunks[i+1], and no
// chunk is empty. Lookups are two binary searches; inserts and removes are
// O(chunkMax + n/chunkMax).
type sortedSet struct {
	chunks [][]string
}

// chunkFor returns the index of the first chunk whose last path is >= p,
// or len(chunks) when p sorts after every path.
func (s *sortedSet) chunkFor(p string) int {
	return sort.Search(len(s.chunks), func(i int) bool {
		c := s.chunks[i]
		return c[len(c)-1] >= p
	})
}

// insert adds p; it is a no-op when p is already present.
func (s *sortedSet) insert(p string) {
	ci := s.chunkFor(p)
	if ci == len(s.chunks) {
		if ci == 0 {
			s.chunks = append(s.chunks, []string{p})
			return
		}
		ci-- // append to the last chunk
	}
	c := s.chunks[ci]
	i := sort.SearchStrings(c, p)
	if i < len(c) && c[i] == p {
		return
	}
	c = append(c, "")
	copy(c[i+1:], c[i:])
	c[i] = p
	if len(c) <= chunkMax {
		s.chunks[ci] = c
		return
	}
	// Split in two halves, each with its own backing array.
	half := len(c) / 2
	lo := make([]string, half, chunkMax)
	copy(lo, c[:half])
	hi := make([]string, len(c)-half, chunkMax)
	copy(hi, c[half:])
	s.chunks = append(s.chunks, nil)
	copy(s.chunks[ci+2:], s.chunks[ci+1:])
	s.chunks[ci] = lo
	s.chunks[ci+1] = hi
}

// remove deletes p; it is a no-op when p is absent.
func (s *sortedSet) remove(p string) {
	ci := s.chunkFor(p)
	if ci == len(s.chunks) {
		return
	}
	c := s.chunks[ci]
	i := sort.SearchStrings(c, p)
	if i == len(c) || c[i] != p {
		return
	}
	copy(c[i:], c[i+1:])
	c[len(c)-1] = ""
	c = c[:len(c)-1]
	if len(c) > 0 {
		s.chunks[ci] = c
		return
	}
	copy(s.chunks[ci:], s.chunks[ci+1:])
	s.chunks[len(s.chunks)-1] = nil
	s.chunks = s.chunks[:len(s.chunks)-1]
}

// ascend calls fn, in order, for every path >= from that starts with
// prefix, until fn returns false.
func (s *sortedSet) ascend(from, prefix string, fn func(p string) bool) {
	if from < prefix {
		from = prefix
	}
	ci := s.chunkFor(from)
	if ci == len(s.chunks) {
		return
	}
	i := sort.SearchStrings(s.chunks[ci], from)
	for ; ci < len(s.chunks); ci, i = ci+1, 0 {
		for _, p := range s.chunks[ci][i:] {
			if !strings.HasPrefix(p, prefix) || !fn(p) {
				return
			}
		}
	}
}

// len returns the number of paths in the set.
func (s *sortedSet) len() int {
	n := 0
	for _, c := range s.chunks {
		n += len(c)
	}
	return n
}

// index holds the paths of every key with history, live or deleted, one
// sortedSet per depth: a prefix range is one ascending scan of one depth.
type index struct {
	levels []*sortedSet
}

func (x *index) level(depth int) *sortedSet {
	if depth < 0 || depth >= len(x.levels) {
		return nil
	}
	return x.levels[depth]
}

func (x *index) insert(path string, depth int) {
	for len(x.levels) <= depth {
		x.levels = append(x.levels, &sortedSet{})
	}
	x.levels[depth].insert(path)
}

func (x *index) remove(path string, depth int) {
	if l := x.level(depth); l != nil {
		l.remove(path)
	}
}

// ascend calls fn for the paths at depth that start with prefix and sort
// after after (every one when after is ""), in order, until fn returns
// false.
func (x *index) ascend(depth int, prefix, after string, fn func(p string) bool) {
	l := x.level(depth)
	if l == nil {
		return
	}
	from := prefix
	if after != "" && after >= from {
		// The first path strictly greater than after.
		from = after + "\x00"
	}
	l.ascend(from, prefix, fn)
}
