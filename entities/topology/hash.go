package topology

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// DefaultVolatilePaths are the paths Hash leaves out of a spec by default:
// timestamps and layout at the top of the spec, and the coordinates and
// timestamps of the elements of its collections (a node's "x" in
// {"nodes": [{"x": 10}]}, at "nodes/*/x"). They are paths, not names
// matched at any depth: "status" is not among them, and a desired
// "status": "running" → "stopped" is a change to apply. Push records the
// paths it hashed with in the desired key, so that its agent verifies with
// the same ones.
var DefaultVolatilePaths = []string{
	"created_at", "updated_at", "applied_at", "deployed_at", "last_seen", "timestamp",
	"layout", "position",
	"*/*/x", "*/*/y", "*/*/position", "*/*/layout",
	"*/*/created_at", "*/*/updated_at",
}

// Hash returns the canonical version hash of a spec with the
// DefaultVolatilePaths left out: HashWith(spec, DefaultVolatilePaths).
func Hash(spec map[string]any) (string, error) { return HashWith(spec, DefaultVolatilePaths) }

// HashWith returns the canonical version hash of a spec: the hex SHA-256
// of its JSON with object keys sorted at every depth, no insignificant
// space, no HTML escaping, the values at the volatile paths left out, and
// every number written in the canonical form of its value
// (canonicalNumber): 1, 1.0 and 1e0 hash the same, and so do 0.00001 and
// 1e-05 (Python's text of it, which the store may hold). A path is
// "/"-separated object keys or array indexes from the spec's top, where
// "*" is any key or index. Two specs that differ only in volatile values,
// key order or the spelling of their numbers hash the same.
func HashWith(spec map[string]any, volatile []string) (string, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("topology: hash: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("topology: hash: %w", err)
	}
	for _, p := range volatile {
		if p == "" {
			return "", fmt.Errorf("topology: hash: an empty volatile path")
		}
		v = without(v, strings.Split(p, "/"))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(canonical(v)); err != nil { // maps encode with sorted keys
		return "", fmt.Errorf("topology: hash: %w", err)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:]), nil
}

// without returns v without the values at path (its segments), where
// "*" matches any key or index. v was freshly decoded: it is changed in
// place.
func without(v any, path []string) any {
	seg, rest := path[0], path[1:]
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if seg != "*" && seg != k {
				continue
			}
			if len(rest) == 0 {
				delete(x, k)
			} else {
				x[k] = without(e, rest)
			}
		}
	case []any:
		if len(rest) == 0 {
			return v // array elements are not left out: that would shift the others
		}
		for i, e := range x {
			if seg == "*" || seg == strconv.Itoa(i) {
				x[i] = without(e, rest)
			}
		}
	}
	return v
}

// canonical returns v with every json.Number in canonical form.
func canonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = canonical(e)
		}
	case []any:
		for i, e := range x {
			x[i] = canonical(e)
		}
	case json.Number:
		return json.Number(canonicalNumber(string(x)))
	}
	return v
}

// plainDigits bounds the digits a canonical number is written with in
// plain notation; beyond, it is written as d.ddde±n.
const plainDigits = 40

// canonicalNumber returns the canonical text of the value of the JSON
// number s, computed on its decimal digits (no floating point, so that no
// two values share a text and no value has two): the shortest digits d
// and exponent e with value d×10^e, written as an integer when e >= 0
// ("1000" for 1e3, "1" for 1.0), as a plain decimal when e < 0 ("0.00001"
// for 1e-05, "1.5" for 1.50), both within plainDigits digits, and as
// "d.ddde±n" beyond. "-0" is "0".
func canonicalNumber(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, _ := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if expText != "" {
		n, err := strconv.Atoi(expText)
		if err != nil {
			return s // not a JSON number: json.Decoder does not produce one
		}
		exp = n
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	if digits == "" {
		return "0"
	}
	sign := ""
	if neg {
		sign = "-"
	}
	switch {
	case exp >= 0 && len(digits)+exp <= plainDigits:
		return sign + digits + strings.Repeat("0", exp)
	case exp < 0 && len(digits) > -exp:
		return sign + digits[:len(digits)+exp] + "." + digits[len(digits)+exp:]
	case exp < 0 && -exp <= plainDigits:
		return sign + "0." + strings.Repeat("0", -exp-len(digits)) + digits
	}
	// d.ddd × 10^(exp + len(digits) - 1)
	e := exp + len(digits) - 1
	out := sign + digits[:1]
	if len(digits) > 1 {
		out += "." + digits[1:]
	}
	if e >= 0 {
		return out + "e+" + strconv.Itoa(e)
	}
	return out + "e" + strconv.Itoa(e)
}

// Verify checks that spec hashes to hash with the DefaultVolatilePaths;
// see VerifyDesired for a pushed topology.
func Verify(spec map[string]any, hash string) error {
	return VerifyWith(spec, hash, DefaultVolatilePaths)
}

// VerifyDesired checks a pushed topology: its spec hashes to its hash
// with the volatile paths it was pushed with (the defaults for a push that
// records none).
func VerifyDesired(d Desired) error {
	paths := d.VolatilePaths
	if paths == nil {
		paths = DefaultVolatilePaths
	}
	return VerifyWith(d.Spec, d.Hash, paths)
}

// VerifyWith checks that spec hashes to hash with the volatile paths; it
// fails with an error wrapping ErrHashMismatch, naming both hashes,
// otherwise.
func VerifyWith(spec map[string]any, hash string, volatile []string) error {
	got, err := HashWith(spec, volatile)
	if err != nil {
		return err
	}
	if got != hash {
		return fmt.Errorf("%w: pushed %q, spec hashes to %q", ErrHashMismatch, hash, got)
	}
	return nil
}
