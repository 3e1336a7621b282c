// Package nearest finds the name nearest to a mistyped one, for "did you
// mean" hints in error messages.
package nearest

// Name returns the name among names nearest to s by edit distance, if
// fewer than limit edits away, and whether there is one. The first of
// equally near names wins.
func Name(s string, names []string, limit int) (string, bool) {
	best, bestD := "", limit
	for _, n := range names {
		if d := Distance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best, best != ""
}

// Distance is the Levenshtein distance of a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
