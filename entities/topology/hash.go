package topology

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// VolatileFields are the object keys Hash ignores, at every depth (inside
// nested objects and arrays): timestamps, status and layout coordinates,
// which change without changing what the agent must run. The list is part
// of the hash's definition: changing it changes every hash.
var VolatileFields = []string{
	// timestamps
	"created_at", "updated_at", "applied_at", "deployed_at", "last_seen", "timestamp",
	// status
	"status", "state_message",
	// layout coordinates (of an editor's canvas)
	"x", "y", "position", "layout",
}

// Hash returns the canonical version hash of a spec: the hex SHA-256 of its
// JSON with object keys sorted at every depth, no insignificant space, no
// HTML escaping, every key of VolatileFields removed at every depth, and
// every number written in the canonical form of its value (canonicalNumber):
// 1, 1.0 and 1e0 hash the same, and so do 0.00001 and 1e-05 (Python's
// text of it, which the store may hold). Two specs that differ only in
// volatile fields, key order or the spelling of their numbers hash the
// same.
func Hash(spec map[string]any) (string, error) {
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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(canonical(stripVolatile(v))); err != nil { // maps encode with sorted keys
		return "", fmt.Errorf("topology: hash: %w", err)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:]), nil
}

// stripVolatile returns v without the VolatileFields keys at any depth.
func stripVolatile(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if slices.Contains(VolatileFields, k) {
				continue
			}
			out[k] = stripVolatile(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripVolatile(e)
		}
		return out
	default:
		return v
	}
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

// Verify checks that spec hashes to hash; it fails with an error wrapping
// ErrHashMismatch, naming both hashes, otherwise.
func Verify(spec map[string]any, hash string) error {
	got, err := Hash(spec)
	if err != nil {
		return err
	}
	if got != hash {
		return fmt.Errorf("%w: pushed %q, spec hashes to %q", ErrHashMismatch, hash, got)
	}
	return nil
}
