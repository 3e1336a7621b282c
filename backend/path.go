package backend

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is the default depth limit of recursive deletes and subtree
// watches, as in ska-sdp-config (max_depth=16).
const MaxDepth = 16

// Depth returns the depth of a path or prefix: its number of "/".
func Depth(path string) int { return strings.Count(path, "/") }

// ValidatePath reports whether path is a valid key path: it starts with "/",
// does not end with "/", has no empty segment and only printable, non-space
// characters. The error wraps ErrInvalidPath and says what is wrong.
func ValidatePath(path string) error {
	if err := validateChars(path); err != nil {
		return err
	}
	switch {
	case path == "/":
		return invalidPath(path, "the root is not a key")
	case strings.HasSuffix(path, "/"):
		return invalidPath(path, "must not end with \"/\"")
	}
	return nil
}

// ValidatePrefix reports whether prefix is a valid path prefix for lists,
// range deletes and watches: like a path, but it may end with "/" (children
// of a path) or in the middle of a segment, and "/" alone is the root.
func ValidatePrefix(prefix string) error {
	return validateChars(prefix)
}

func validateChars(p string) error {
	switch {
	case p == "":
		return invalidPath(p, "empty")
	case p[0] != '/':
		return invalidPath(p, "must start with \"/\"")
	case !utf8.ValidString(p):
		return invalidPath(p, "not valid UTF-8")
	case strings.Contains(p, "//"):
		return invalidPath(p, "empty segment")
	}
	for i, r := range p {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return invalidPath(p, fmt.Sprintf("character %q at byte %d is not printable", r, i))
		}
	}
	return nil
}

func invalidPath(p, why string) error {
	return &PathError{Op: "validate", Path: p, Err: fmt.Errorf("%w: %s", ErrInvalidPath, why)}
}

// ValidateValue reports whether value may be stored: it must be valid UTF-8.
// The error wraps ErrInvalidValue and names path.
func ValidateValue(path, value string) error {
	if !utf8.ValidString(value) {
		return &PathError{Op: "validate", Path: path, Err: fmt.Errorf("%w: not valid UTF-8", ErrInvalidValue)}
	}
	return nil
}

// EncodeKey returns the stored form of a path or prefix at its own depth:
// "/pb/x" becomes "2/pb/x".
func EncodeKey(path string) string { return EncodeKeyAt(path, Depth(path)) }

// EncodeKeyAt returns the stored form of a prefix for keys at depth:
// EncodeKeyAt("/pb/", 3) is "3/pb/", the start of every key "/pb/a/b".
func EncodeKeyAt(prefix string, depth int) string {
	return strconv.Itoa(depth) + prefix
}

// DecodeKey splits a stored key "2/pb/x" into its path "/pb/x". It fails
// when the key has no depth tag or the tag does not match the path's depth.
func DecodeKey(key string) (string, error) {
	i := strings.IndexByte(key, '/')
	if i <= 0 {
		return "", fmt.Errorf("%w: stored key %q has no depth tag", ErrInvalidPath, key)
	}
	d, err := strconv.Atoi(key[:i])
	if err != nil || d < 0 {
		return "", fmt.Errorf("%w: stored key %q has a bad depth tag", ErrInvalidPath, key)
	}
	path := key[i:]
	if Depth(path) != d {
		return "", fmt.Errorf("%w: stored key %q has depth tag %d but depth %d", ErrInvalidPath, key, d, Depth(path))
	}
	return path, nil
}

// EscapeSegment makes s usable as one path segment, reversibly: "%", "/" and
// every non-printable or space character become %XX escapes of their UTF-8
// bytes. An address "10.0.0.1/24" becomes "10.0.0.1%2F24". The empty string,
// which is no segment, becomes "%-".
func EscapeSegment(s string) string {
	if s == "" {
		return "%-"
	}
	var b strings.Builder
	for _, r := range s {
		if r == '%' || r == '/' || !unicode.IsPrint(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			var buf [utf8.UTFMax]byte
			n := utf8.EncodeRune(buf[:], r)
			for _, c := range buf[:n] {
				fmt.Fprintf(&b, "%%%02X", c)
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// UnescapeSegment reverses EscapeSegment.
func UnescapeSegment(s string) (string, error) {
	if s == "%-" {
		return "", nil
	}
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%w: segment %q has a truncated escape", ErrInvalidPath, s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%w: segment %q has a bad escape %q", ErrInvalidPath, s, s[i:i+3])
		}
		b.WriteByte(byte(v))
		i += 2
	}
	if !utf8.ValidString(b.String()) {
		return "", fmt.Errorf("%w: segment %q unescapes to invalid UTF-8", ErrInvalidPath, s)
	}
	return b.String(), nil
}
