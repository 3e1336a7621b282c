package topology

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
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
// HTML escaping, and every key of VolatileFields removed at every depth.
// Numbers keep their JSON text (1 and 1.0 hash differently). Two specs that
// differ only in volatile fields or key order hash the same.
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
	if err := enc.Encode(stripVolatile(v)); err != nil { // maps encode with sorted keys
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
