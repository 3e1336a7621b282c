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

// ValidatePath reports whether path is a valid key path: it starts with
// "/", does not end with "/", has no empty segment and is valid UTF-8.
// That is every key path ska-sdp-config can write (ids with spaces, "%",
// ":" and any other character), so every key a Python service stored can
// be read, listed, watched and deleted. Writes check the stricter
// ValidateWritePath. The error wraps ErrInvalidPath and says what is wrong.
func ValidatePath(path string) error {
	if err := validatePrefix(path); err != nil {
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

// ValidateWritePath reports whether a key may be written at path: a valid
// key path (ValidatePath) with no control character (newline, tab, NUL,
// DEL, ...), so that what sdpconfig writes prints on one line. Spaces and
// every other printable character are allowed, as ska-sdp-config allows
// them. The error wraps ErrInvalidPath and says what is wrong.
func ValidateWritePath(path string) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	for i, r := range path {
		if unicode.IsControl(r) {
			return invalidPath(path, fmt.Sprintf("control character %q at byte %d (it can be read, but not written)", r, i))
		}
	}
	return nil
}

// ValidatePrefix reports whether prefix is a valid path prefix for lists,
// range deletes and watches: like a path, but it may end with "/" (children
// of a path) or in the middle of a segment, and "/" alone is the root.
func ValidatePrefix(prefix string) error { return validatePrefix(prefix) }

func validatePrefix(p string) error {
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

// EscapeSegment makes s usable as one path segment, reversibly, and
// writes it as ska-sdp-config writes an id wherever it can: verbatim. Only
// what a segment cannot hold or print is escaped as %XX of its UTF-8 bytes:
// "/" (an address "10.0.0.1/24" becomes "10.0.0.1%2F24"), control
// characters and invalid UTF-8; and a "%" only where it would otherwise
// read as an escape (before two hex digits). So "sub 01" and "a%b" stay as
// they are, as Python stores them. The empty string, which is no segment,
// becomes "%-" (and the string "%-" becomes "%25-").
func EscapeSegment(s string) string {
	switch s {
	case "":
		return "%-"
	case "%-":
		return "%25-"
	}
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '/' || unicode.IsControl(r) || r == utf8.RuneError && n == 1,
			r == '%' && isEscape(s[i:]):
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needsEscape reports whether EscapeSegment changes s.
func needsEscape(s string) bool {
	for i, r := range s {
		if r == '/' || unicode.IsControl(r) || r == utf8.RuneError || r == '%' && isEscape(s[i:]) {
			return true
		}
	}
	return false
}

// isEscape reports whether s starts with "%" and two hex digits.
func isEscape(s string) bool {
	return len(s) >= 3 && s[0] == '%' && isHex(s[1]) && isHex(s[2])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// UnescapeSegment reverses EscapeSegment. It reads any segment another
// program wrote: a "%" not followed by two hex digits is itself ("50%",
// "a%b"), and a segment whose escapes do not decode to UTF-8 is taken
// verbatim. It fails only for what is no segment: a string holding "/" or
// empty.
func UnescapeSegment(s string) (string, error) {
	switch {
	case s == "%-":
		return "", nil
	case s == "" || strings.Contains(s, "/"):
		return "", fmt.Errorf("%w: %q is not one path segment", ErrInvalidPath, s)
	case !strings.Contains(s, "%"):
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !isEscape(s[i:]) {
			b.WriteByte(s[i])
			continue
		}
		v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
		b.WriteByte(byte(v))
		i += 2
	}
	if !utf8.ValidString(b.String()) {
		return s, nil
	}
	return b.String(), nil
}
