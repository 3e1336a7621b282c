package mirror

import "sort"

// chunkMax is the most paths one chunk of a pathIndex holds.
const chunkMax = 512

// pathIndex is a sorted set of paths kept in chunks of at most chunkMax, so
// that an insert or a delete anywhere moves at most chunkMax paths and
// len/chunkMax chunk headers, however many keys a mirror holds. Paths
// appended in order (as a refresh delivers them) fill each chunk before the
// next is started. It is not safe for concurrent use.
type pathIndex struct {
	chunks [][]string // each sorted and non-empty; all in order
}

// seek returns the position of the first path > p (orEqual: >= p), as a
// chunk index and an index in that chunk; (len(chunks), 0) when there is
// none.
func (x *pathIndex) seek(p string, orEqual bool) (int, int) {
	after := func(q string) bool { return q > p || (orEqual && q == p) }
	c := sort.Search(len(x.chunks), func(c int) bool { ch := x.chunks[c]; return after(ch[len(ch)-1]) })
	if c == len(x.chunks) {
		return c, 0
	}
	ch := x.chunks[c]
	return c, sort.Search(len(ch), func(i int) bool { return after(ch[i]) })
}

// insert adds p, which must not be in the set.
func (x *pathIndex) insert(p string) {
	n := len(x.chunks)
	if n == 0 || x.chunks[n-1][len(x.chunks[n-1])-1] < p {
		// Past the end: append, starting a chunk when the last is full.
		if n == 0 || len(x.chunks[n-1]) == chunkMax {
			x.chunks = append(x.chunks, make([]string, 0, chunkMax))
			n++
		}
		x.chunks[n-1] = append(x.chunks[n-1], p)
		return
	}
	c, i := x.seek(p, true)
	ch := x.chunks[c]
	if len(ch) == chunkMax {
		// Split the full chunk in two halves, then insert in the right one.
		left := append(make([]string, 0, chunkMax), ch[:chunkMax/2]...)
		right := append(make([]string, 0, chunkMax), ch[chunkMax/2:]...)
		x.chunks = append(x.chunks, nil)
		copy(x.chunks[c+2:], x.chunks[c+1:])
		x.chunks[c], x.chunks[c+1] = left, right
		if i > len(left) {
			c, i = c+1, i-len(left)
		}
		ch = x.chunks[c]
	}
	ch = append(ch, "")
	copy(ch[i+1:], ch[i:])
	ch[i] = p
	x.chunks[c] = ch
}

// remove deletes p, which must be in the set.
func (x *pathIndex) remove(p string) {
	c, i := x.seek(p, true)
	if c == len(x.chunks) || x.chunks[c][i] != p {
		return
	}
	ch := x.chunks[c]
	copy(ch[i:], ch[i+1:])
	ch[len(ch)-1] = ""
	ch = ch[:len(ch)-1]
	if len(ch) > 0 {
		x.chunks[c] = ch
		return
	}
	copy(x.chunks[c:], x.chunks[c+1:])
	x.chunks[len(x.chunks)-1] = nil
	x.chunks = x.chunks[:len(x.chunks)-1]
}

// ascend calls fn for each path > from (orEqual: >= from) in order, until
// fn returns false.
func (x *pathIndex) ascend(from string, orEqual bool, fn func(p string) bool) {
	c, i := x.seek(from, orEqual)
	for ; c < len(x.chunks); c, i = c+1, 0 {
		for _, p := range x.chunks[c][i:] {
			if !fn(p) {
				return
			}
		}
	}
}
