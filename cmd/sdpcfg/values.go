package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

// typedKinds are the entity collections of ska-sdp-config whose values are
// JSON objects: processing blocks, execution blocks, deployments, scripts
// and components. Their keys are /<kind>/<id>, with the sub-keys
// /<kind>/<id>/state and /<kind>/<id>/owner.
var typedKinds = []string{"pb", "eb", "deploy", "script", "component"}

// typedSubKeys are the sub-keys of an entity that hold JSON objects too.
var typedSubKeys = []string{"state", "owner"}

// isTyped tells whether path is the key of a typed entity or of its state
// or owner: its value must be a JSON object.
func isTyped(path string) bool {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) < 2 || len(segs) > 3 || !contains(typedKinds, segs[0]) {
		return false
	}
	return len(segs) == 2 || contains(typedSubKeys, segs[2])
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// valueFlags are the flags of the commands that write a value.
type valueFlags struct {
	json bool // --json: the value must be JSON; store it in ska-sdp-config form
	yaml bool // --yaml: the value is YAML (as edit shows it); store it as JSON
	raw  bool // --raw: store the value as given, even on a typed path
}

// prepare checks value for path and returns what to store. A typed path
// (see isTyped) or --json requires valid JSON (an object on a typed path),
// stored as ska-sdp-config writes it (config.Marshal: sorted keys, 2-space
// indent); --raw stores any UTF-8 text as is; --yaml reads YAML, as edit
// shows JSON, and then checks and stores it as JSON.
func (f valueFlags) prepare(path, value string) (string, error) {
	if err := backend.ValidateValue(path, value); err != nil {
		return "", err
	}
	if f.yaml {
		j, err := fromYAML([]byte(value), nil)
		if err != nil {
			return "", usagef("value for %s: %v", path, err)
		}
		value, f.json = j, true
	}
	if f.raw || (!f.json && !isTyped(path)) {
		return value, nil
	}
	why := "--json was given"
	if isTyped(path) {
		why = fmt.Sprintf("/%s values are JSON objects", strings.Split(path, "/")[1])
	}
	v, err := parseJSON(value)
	if err != nil {
		return "", usagef("value for %s is not valid JSON (%s): %v; fix it, or pass --raw to store it as is", path, why, err)
	}
	if _, ok := v.(map[string]any); !ok && isTyped(path) {
		return "", usagef("value for %s is not a JSON object (%s); fix it, or pass --raw to store it as is", path, why)
	}
	out, err := config.Marshal(v)
	if err != nil {
		return "", usagef("value for %s: %v", path, err)
	}
	return out, nil
}

// parseJSON decodes exactly one JSON value, numbers kept as json.Number,
// and says where a syntax error is (line and column).
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty")
		}
		return nil, locate(s, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := lineCol(s, int(dec.InputOffset()))
		return nil, fmt.Errorf("line %d, column %d: text after the JSON value", line, col)
	}
	return v, nil
}

// locate adds the line and column of a JSON syntax error in s.
func locate(s string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(s, int(se.Offset)-1)
		return fmt.Errorf("line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		line, col := lineCol(s, int(te.Offset))
		return fmt.Errorf("line %d, column %d: %v", line, col, te)
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, _ := lineCol(s, len(s))
		return fmt.Errorf("line %d: unexpected end of input", line)
	}
	return err
}

// lineCol returns the 1-based line and column of byte offset off in s.
func lineCol(s string, off int) (line, col int) {
	off = min(max(off, 0), len(s))
	before := s[:off]
	line = strings.Count(before, "\n") + 1
	col = off - strings.LastIndexByte(before, '\n')
	return line, col
}

// canonicalJSON tells whether v is a JSON object, array, number, boolean
// or null written exactly as ska-sdp-config writes it (config.Marshal).
// Export writes such values as JSON, and every other value as a string.
func canonicalJSON(v string) bool {
	if v == "" || strings.IndexByte(`{[-0123456789tfn`, v[0]) < 0 {
		return false
	}
	if !json.Valid([]byte(v)) {
		return false
	}
	m, err := config.Marshal(json.RawMessage(v))
	return err == nil && m == v
}

// oneLine returns value as one line for tables: JSON compacted, other text
// quoted if it has control characters or is empty, as is otherwise.
func oneLine(value string) string {
	if value != "" && (value[0] == '{' || value[0] == '[') && json.Valid([]byte(value)) {
		var b bytes.Buffer
		if json.Compact(&b, []byte(value)) == nil {
			return b.String()
		}
	}
	if value == "" || strings.IndexFunc(value, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(value)
	}
	return value
}

// readValue returns the value argument: arg itself, or all of stdin for
// "-".
func readValue(in io.Reader, arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	b, err := io.ReadAll(in)
	if err != nil {
		return "", fmt.Errorf("reading the value from stdin: %w", err)
	}
	return string(b), nil
}

// cleanPath checks a path argument: a valid key path (a trailing "/" is
// dropped). root allows "/" alone, for commands that act on a subtree.
func cleanPath(cmd, arg string, root bool) (string, error) {
	p := arg
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "/" && root {
		return p, nil
	}
	if err := backend.ValidatePath(p); err != nil {
		return "", usagef("%s: invalid path %q: %s (a path looks like /pb/pb-1)", cmd, arg, pathReason(err))
	}
	return p, nil
}
