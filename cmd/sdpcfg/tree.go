package main

// The tree format of export and import: one JSON object (or YAML mapping)
// whose keys are key paths and whose values are the keys' values.
//
//	{
//	  "/notes/greeting": "hello\n",
//	  "/pb/pb-1": {
//	    "script": "vis-receive"
//	  },
//	  "/pb/pb-1/state": {
//	    "status": "RUNNING"
//	  }
//	}
//
// A string is stored as is. Any other JSON value (object, array, number,
// boolean, null) is stored as ska-sdp-config writes JSON (config.Marshal).
// Export writes a value as JSON when it is exactly that form, and as a
// string otherwise; in YAML it writes every value as a string, because YAML
// does not keep the text of numbers (1.0). A value that is not UTF-8
// (etcdctl can write any bytes) is written in both as an object holding
// only its bytes in base64, {"$base64": "..."}, which import turns back
// into those bytes; a UTF-8 value that has that very form is written as a
// string. Either way, exporting and importing reproduces every value byte
// for byte.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

// treeWriter writes a tree in JSON or YAML, one key at a time.
type treeWriter struct {
	w      *bufio.Writer
	format string // outJSON or outYAML
	n      int
	buf    bytes.Buffer
	enc    *json.Encoder
}

// newTreeWriter returns a writer of the tree format in format (outYAML,
// or outJSON for anything else).
func newTreeWriter(w io.Writer, format string) *treeWriter {
	t := &treeWriter{w: bufio.NewWriterSize(w, 64<<10), format: format}
	if format != outYAML {
		t.format = outJSON
	}
	t.enc = json.NewEncoder(&t.buf)
	t.enc.SetEscapeHTML(false)
	return t
}

// quote returns s as a JSON string, without HTML escapes.
func (t *treeWriter) quote(s string) []byte {
	t.buf.Reset()
	t.enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(t.buf.Bytes(), []byte("\n"))
}

// base64Tag is the one key of the object that stands for bytes that are
// not UTF-8 in a tree.
const base64Tag = "$base64"

// add writes one key.
func (t *treeWriter) add(path, value string) error {
	binary := !utf8.ValidString(value)
	if t.format == outYAML {
		var v any = value
		if binary {
			v = map[string]string{base64Tag: base64.StdEncoding.EncodeToString([]byte(value))}
		}
		b, err := yaml.Marshal(map[string]any{path: v})
		if err != nil {
			return err
		}
		_, err = t.w.Write(b)
		t.n++
		return err
	}
	if t.n == 0 {
		t.w.WriteString("{\n  ")
	} else {
		t.w.WriteString(",\n  ")
	}
	t.n++
	t.w.Write(t.quote(path))
	t.w.WriteString(": ")
	switch {
	case binary:
		t.w.WriteString(`{"` + base64Tag + `": "`)
		t.w.WriteString(base64.StdEncoding.EncodeToString([]byte(value)))
		_, err := t.w.WriteString(`"}`)
		return err
	case canonicalJSON(value) && !isBase64Tag(json.RawMessage(value)):
		_, err := t.w.WriteString(strings.ReplaceAll(value, "\n", "\n  "))
		return err
	}
	_, err := t.w.Write(t.quote(value))
	return err
}

// end completes the tree and flushes it.
func (t *treeWriter) end() error {
	switch {
	case t.n == 0:
		t.w.WriteString("{}\n")
	case t.format == outJSON:
		t.w.WriteString("\n}\n")
	}
	return t.w.Flush()
}

// entry is one key of a tree read by readTree.
type entry struct {
	path  string
	value string
	raw   json.RawMessage // while reading: a JSON value to canonicalize into value
	line  int             // while reading: the line of the path
}

// treeFormat returns the format of a tree file: by its extension, else
// JSON if it starts with "{", else YAML.
func treeFormat(name string, data []byte) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return outJSON
	case ".yaml", ".yml":
		return outYAML
	}
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		return outJSON
	}
	return outYAML
}

// readTree parses a whole tree in format and checks every path and value,
// so that nothing is written unless all of it is good. Errors say where:
// the line, or the path.
func readTree(data []byte, format string) ([]entry, error) {
	if format == outYAML {
		var err error
		if data, err = yamlTreeToJSON(data); err != nil {
			return nil, err
		}
	}
	return readJSONTree(data)
}

// yamlTreeToJSON checks a YAML tree (syntax, duplicate keys, a mapping at
// the top) and converts it to JSON.
func yamlTreeToJSON(data []byte) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty: want a mapping of paths to values")
	}
	j, err := strictYAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(j, []byte("{")) {
		return nil, errors.New("the top level is not a mapping of paths to values")
	}
	return j, nil
}

// strictYAMLToJSON converts YAML to JSON, refusing duplicate keys, with a
// one-line error ("line 3: key \"a\" already set in map").
func strictYAMLToJSON(data []byte) ([]byte, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
		return nil, errors.New(strings.ReplaceAll(msg, "\n  ", "; "))
	}
	return j, nil
}

// readJSONTree parses a JSON tree, keeping the line of each key for errors.
func readJSONTree(data []byte) ([]entry, error) {
	s := string(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty: want a JSON object of paths to values")
		}
		return nil, locate(s, tokenError(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		line, _ := lineCol(s, int(dec.InputOffset()))
		return nil, fmt.Errorf("line %d: want a JSON object of paths to values", line)
	}
	seen := make(map[string]int)
	lines := lineCounter{s: s, line: 1}
	var out []entry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, locate(s, tokenError(err))
		}
		path, ok := tok.(string)
		if !ok { // a "}" where a key should be
			line, col := lineCol(s, int(dec.InputOffset())-1)
			return nil, fmt.Errorf("line %d, column %d: want a path", line, col)
		}
		end := int(dec.InputOffset())
		line := lines.at(end)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The offsets of a Decoder's errors after Token calls do not
			// count from the start of the input: decode the value again on
			// its own, from after the colon, to find where it breaks.
			if colon := strings.IndexByte(s[end:], ':'); colon >= 0 {
				start := end + colon + 1
				var se *json.SyntaxError
				if err2 := json.NewDecoder(strings.NewReader(s[start:])).Decode(&raw); errors.As(err2, &se) {
					se.Offset += int64(start)
					err = se
				}
			}
			return nil, locate(s, eofIsUnexpected(err))
		}
		if first, dup := seen[path]; dup {
			return nil, fmt.Errorf("line %d: path %q appears twice (first on line %d)", line, path, first)
		}
		seen[path] = line
		if err := backend.ValidatePath(path); err != nil {
			return nil, fmt.Errorf("line %d: invalid path %q: %s", line, path, pathReason(err))
		}
		out = append(out, entry{path: path, raw: raw, line: line})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, locate(s, tokenError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, _ := lineCol(s, int(dec.InputOffset()))
		return nil, fmt.Errorf("line %d: text after the closing brace", line)
	}
	if err := treeValues(out); err != nil {
		return nil, err
	}
	return out, nil
}

// treeValues turns the raw values of entries into the values to store,
// on every CPU: it is most of the work of reading a large tree. It
// returns the error of the first entry that fails.
func treeValues(entries []entry) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(entries)/1000))
	chunk := (len(entries) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		part := entries[min(w*chunk, len(entries)):min((w+1)*chunk, len(entries))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range part {
				e := &part[i]
				v, err := treeValue(e.raw)
				if err != nil {
					errs[w] = fmt.Errorf("line %d: value of %q: %w", e.line, e.path, err)
					return
				}
				e.value, e.raw = v, nil
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lineCounter returns the line of increasing offsets in s in time linear
// in len(s) overall.
type lineCounter struct {
	s    string
	off  int // the offset counted up to
	line int // the line at off
}

// at returns the 1-based line of offset off.
func (c *lineCounter) at(off int) int {
	off = min(max(off, 0), len(c.s))
	if off < c.off {
		c.off, c.line = 0, 1
	}
	c.line += strings.Count(c.s[c.off:off], "\n")
	c.off = off
	return c.line
}

// tokenError makes an error of Decoder.Token fit locate: its syntax
// errors give the offset of the offending byte, not the count of bytes
// read up to it; and an end of input inside the tree is unexpected.
func tokenError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		c := *se
		c.Offset++
		return &c
	}
	return eofIsUnexpected(err)
}

// eofIsUnexpected turns an end of input inside the tree into
// io.ErrUnexpectedEOF.
func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// isBase64Tag reports whether raw is an object whose only key is
// base64Tag, with a string value.
func isBase64Tag(raw json.RawMessage) bool {
	_, ok := base64TagBytes(raw)
	return ok
}

// base64TagBytes returns the bytes of a tagged value, {"$base64": "..."};
// ok is false for anything else (bad base64 is then an error of ok true).
func base64TagBytes(raw json.RawMessage) (b []byte, ok bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' || !bytes.Contains(t, []byte(base64Tag)) {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(t, &m) != nil || len(m) != 1 {
		return nil, false
	}
	var s string
	if json.Unmarshal(m[base64Tag], &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// treeValue returns what to store for a value of the tree: a string as
// is, the bytes of a {"$base64": "..."} object, anything else as
// ska-sdp-config JSON.
func treeValue(raw json.RawMessage) (string, error) {
	if enc, ok := base64TagBytes(raw); ok {
		b, err := base64.StdEncoding.DecodeString(string(enc))
		if err != nil {
			return "", fmt.Errorf("%s: not base64: %w", base64Tag, err)
		}
		return string(b), nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	return config.Marshal(raw)
}
