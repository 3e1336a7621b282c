package main

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/sdpconfig/sdpconfig/backend"
)

// FuzzReadTree checks the import parser (readTree, JSON and YAML) on any
// input: nothing panics; what it accepts has valid paths, each once, and
// UTF-8 values; and a JSON tree it accepts, written back by export's tree
// writer, reads back to the same keys and values.
func FuzzReadTree(f *testing.F) {
	for _, s := range []string{
		"{\n  \"/pb/x\": {\"a\": 1},\n  \"/pb/y\": \"text\",\n  \"/n\": 1.50\n}\n",
		"/pb/x:\n  a: 1\n/pb/y: text\n", "{}", "", "[]", "{\"/a\": 1, \"/a\": 2}", "{\"a\": 1}",
		"{\"/a\": }", "{\"/a\": 1} x", "/a: [1, 2]\n/b: null\n", "{\"/a\": 1e999}", "\ufeff{\"/a\": \"\\u00e9\"}",
		"{\"/a\": \"{\\\"x\\\": 1}\"}", "- 1\n", "/a: &x 1\n/b: *x\n", "{\"/a\": -0}",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		format := outJSON
		if yaml {
			format = outYAML
		}
		entries, err := readTree(data, format)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if err := backend.ValidatePath(e.path); err != nil {
				t.Fatalf("accepted an invalid path %q: %v", e.path, err)
			}
			if seen[e.path] {
				t.Fatalf("accepted %q twice", e.path)
			}
			seen[e.path] = true
			if !utf8.ValidString(e.value) {
				t.Fatalf("accepted a value of %q that is not UTF-8: %q", e.path, e.value)
			}
		}
		var buf bytes.Buffer
		w := newTreeWriter(&buf, outJSON)
		for _, e := range entries {
			if err := w.add(e.path, e.value); err != nil {
				t.Fatalf("writing %q: %v", e.path, err)
			}
		}
		if err := w.end(); err != nil {
			t.Fatal(err)
		}
		back, err := readTree(buf.Bytes(), outJSON)
		if err != nil {
			t.Fatalf("export of %q does not read back: %v\n%s", data, err, buf.String())
		}
		if len(back) != len(entries) {
			t.Fatalf("export of %q reads back %d keys, not %d", data, len(back), len(entries))
		}
		for i := range back {
			if back[i].path != entries[i].path || back[i].value != entries[i].value {
				t.Fatalf("key %d reads back as %q=%q, not %q=%q", i, back[i].path, back[i].value, entries[i].path, entries[i].value)
			}
		}
	})
}
