package backend

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPath checks path validation and the depth-prefixed key encoding on
// any string: nothing panics; a valid path encodes to a key that decodes
// back to it; a decoded key's depth matches its tag.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"/pb/x", "/", "", "pb", "//", "/a/", "/a b", "2/pb/x", "0/", "-1/x", "+1/x", "01/x", "/é/ü", "/\x00", "99999999999999999999/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		perr := ValidatePath(s)
		xerr := ValidatePrefix(s)
		if perr == nil {
			if xerr != nil {
				t.Fatalf("%q is a valid path but not a valid prefix: %v", s, xerr)
			}
			key := EncodeKey(s)
			got, err := DecodeKey(key)
			if err != nil || got != s {
				t.Fatalf("DecodeKey(EncodeKey(%q)) = %q, %v", s, got, err)
			}
			if Depth(s) < 1 {
				t.Fatalf("valid path %q has depth %d", s, Depth(s))
			}
		}
		if p, err := DecodeKey(s); err == nil {
			tag, err := strconv.Atoi(s[:strings.IndexByte(s, '/')])
			if err != nil || !strings.HasSuffix(s, p) || tag != Depth(p) {
				t.Fatalf("DecodeKey(%q) = %q (depth %d), tag %d (%v)", s, p, Depth(p), tag, err)
			}
		}
	})
}

// FuzzSegment checks that EscapeSegment makes any string a valid path
// segment that UnescapeSegment reverses, and that UnescapeSegment never
// panics.
func FuzzSegment(f *testing.F) {
	for _, s := range []string{"", "a", "10.0.0.1/24", "%", "%-", "%2F", "%zz", "%4", "a b", "\x00", "é", "\xff", "%C3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if u, err := UnescapeSegment(s); err == nil && utf8.ValidString(s) && !utf8.ValidString(u) {
			t.Fatalf("UnescapeSegment(%q) = %q, not UTF-8", s, u)
		}
		if _, err := UnescapeSegment(s); err != nil && s != "" && !strings.Contains(s, "/") {
			t.Fatalf("UnescapeSegment(%q) fails on a segment: %v", s, err)
		}
		if !utf8.ValidString(s) {
			return // EscapeSegment replaces invalid bytes: not reversible
		}
		e := EscapeSegment(s)
		if strings.Contains(e, "/") {
			t.Fatalf("EscapeSegment(%q) = %q holds a /", s, e)
		}
		if err := ValidatePath("/" + e); err != nil {
			t.Fatalf("EscapeSegment(%q) = %q is not a valid segment: %v", s, e, err)
		}
		u, err := UnescapeSegment(e)
		if err != nil || u != s {
			t.Fatalf("UnescapeSegment(EscapeSegment(%q)) = %q, %v", s, u, err)
		}
	})
}
