package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/memory"
)

// trickyValues are values whose text an export must keep byte for byte.
var trickyValues = map[string]string{
	"/pb/canonical":      "{\n  \"a\": 1.0,\n  \"b\": [\n    1,\n    \"x\"\n  ],\n  \"c\": {}\n}",
	"/pb/compact":        `{"b":1,"a":2}`,
	"/v/number":          "123",
	"/v/float":           "1.0",
	"/v/float-odd":       "1.00",
	"/v/quoted":          `"quoted"`,
	"/v/true":            "true",
	"/v/null":            "null",
	"/v/empty":           "",
	"/v/text":            "hello world",
	"/v/multiline":       "line1\nline2\n",
	"/v/trailing-space":  "x \ny",
	"/v/unicode":         "ünï €😀",
	"/v/html":            "<a href=\"x\">&</a>",
	"/v/control":         "\x01\t",
	"/v/yaml-like":       "- a: b",
	"/v/deep/a/b/c/d/e":  "deep",
	"/v/array-canonical": "[\n  1,\n  2\n]",
	// Bytes that are not UTF-8, as etcdctl can write them, and values that
	// look like the tagged form export gives those.
	"/v/binary":        "ok\xff\xfe\x00",
	"/v/latin1":        "caf\xe9",
	"/v/tag-lookalike": "{\n  \"$base64\": \"aGk=\"\n}",
	"/v/tag-compact":   `{"$base64":"aGk="}`,
}

func TestExportImportRoundTrip(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			src := newHarness(t)
			for p, v := range trickyValues {
				src.put(p, v)
			}
			src.put("/elsewhere", "not exported")
			exported := src.ok("export", "-o", format, "/v")
			exported2 := src.ok("export", "-o", format, "/pb")
			assert.Assert(t, !strings.Contains(exported, "elsewhere"))

			dst := newHarness(t)
			file := filepath.Join(t.TempDir(), "tree."+format)
			assert.NilError(t, os.WriteFile(file, []byte(exported), 0o600))
			out := dst.ok("import", file)
			assert.Equal(t, out, fmt.Sprintf("imported 20 key(s) from %s in 1 transaction(s), at revision 2\n", file))
			r := dst.runIn(exported2, "import", "-")
			assert.Equal(t, r.code, 0, r.err)
			for p, v := range trickyValues {
				got, ok := dst.value(p)
				assert.Assert(t, ok, p)
				assert.Equal(t, got, v, p)
			}
			// And the export of the import is the export.
			assert.Equal(t, dst.ok("export", "-o", format, "/v"), exported)
		})
	}
}

func TestExportFormat(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/x", "{\n  \"a\": 1\n}", "/pb/x/state", `{"raw":1}`, "/pb/y", "text\n", "/pbz", "outside")
	assert.Equal(t, h.ok("export", "/pb"), `{
  "/pb/x": {
    "a": 1
  },
  "/pb/x/state": "{\"raw\":1}",
  "/pb/y": "text\n"
}
`)
	assert.Equal(t, h.ok("export", "/pb/x"), "{\n  \"/pb/x\": {\n    \"a\": 1\n  },\n  \"/pb/x/state\": \"{\\\"raw\\\":1}\"\n}\n")
	assert.Equal(t, h.ok("export", "-o", "yaml", "/pb/y"), "/pb/y: |\n  text\n")
	wantError(t, h.run("export", "/nothing"), exitNotFound, "export /nothing: nothing at or below it")
	wantError(t, h.run("export", "-o", "yaml", "/nothing"), exitNotFound, "export /nothing")
	empty := newHarness(t)
	assert.Equal(t, empty.ok("export", "/"), "{}\n")
	// Everything, including the key outside /pb.
	assert.Assert(t, strings.Contains(h.ok("export", "/"), `"/pbz": "outside"`))
}

func TestExportAtRevisionAndPrefix(t *testing.T) {
	h := newHarness(t)
	rev := h.put("/sdp/a", "1")
	h.put("/sdp/b", "2")
	assert.Equal(t, h.ok("--prefix", "/sdp", "export", "--rev", fmt.Sprint(rev), "/"), "{\n  \"/a\": 1\n}\n")
	out := h.ok("--prefix", "/sdp", "export", "/")
	r := h.runIn(out, "--prefix", "/copy", "import", "-")
	assert.Equal(t, r.code, 0, r.err)
	v, _ := h.value("/copy/b")
	assert.Equal(t, v, "2")
}

func TestImportErrorsWriteNothing(t *testing.T) {
	h := newHarness(t)
	h.put("/keep", "1")
	rev := h.revision()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		fragments     []string
	}{
		{"bad.json", "{\n  \"/a\": \"x\",\n  \"/b\": [1,\n}\n", []string{"import ", "bad.json: line 4, column 1: invalid character '}'", "nothing was written"}},
		{"comma.json", "{\"/a\": 1 \"/b\": 2}", []string{"line 1, column 10: invalid character '\"' after object key:value pair"}},
		{"key.json", "{\n  1: 2}", []string{"line 2, column 3: invalid character '1'"}},
		{"trunc.json", "{\n  \"/a\": \"x\",\n", []string{"line 3: unexpected end of input"}},
		{"dup.json", "{\"/a\": 1,\n\"/a\": 2}", []string{`line 2: path "/a" appears twice (first on line 1)`}},
		{"path.json", "{\"/a\": 1,\n\n\"a/b\": 2}", []string{`line 3: invalid path "a/b": must start with "/"`}},
		{"slash.json", "{\"/a/\": 1}", []string{`invalid path "/a/"`}},
		{"array.json", "[1]", []string{"line 1: want a JSON object of paths to values"}},
		{"empty.json", "", []string{"empty"}},
		{"after.json", "{\"/a\": 1}\n{}", []string{"line 2: text after the closing brace"}},
		{"bad.yaml", "/a: x\n/b: [1\n/c: 2\n", []string{"bad.yaml: line 2: did not find expected ',' or ']'"}},
		{"dup.yaml", "/a: x\n/b: y\n/a: z\n", []string{`line 3: key "/a" already set in map`}},
		{"seq.yaml", "- a\n", []string{"the top level is not a mapping of paths to values"}},
		{"path.yaml", "/a: x\nb: y\n", []string{`invalid path "b"`}},
		{"empty.yaml", "\n", []string{"empty"}},
		{"infinity.json", `{"/a": 1e999}`, []string{`value of "/a"`, "out of the range"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name)
			assert.NilError(t, os.WriteFile(file, []byte(tc.content), 0o600))
			wantError(t, h.run("import", file), exitUsage, tc.fragments...)
			assert.Equal(t, h.revision(), rev)
		})
	}
	wantError(t, h.run("import", filepath.Join(dir, "missing.json")), exitUsage, "reading", "missing.json", "no such file")
	wantError(t, h.run("import", "--format", "xml", "x"), exitUsage, `--format "xml"`)
	// --format beats the extension.
	f := filepath.Join(dir, "tree.txt")
	assert.NilError(t, os.WriteFile(f, []byte("/y: 1\n"), 0o600))
	h.ok("import", "--format", "yaml", f)
	v, _ := h.value("/y")
	assert.Equal(t, v, "1")
}

func TestImportValuesAndBatches(t *testing.T) {
	h := newHarness(t, memory.WithMaxTxnOps(10))
	in := "{\"/n\": 1.50, \"/o\": {\"b\": 1, \"a\": [true, null]}, \"/s\": \"1.50\""
	for i := 0; i < 25; i++ {
		in += fmt.Sprintf(", \"/k/%02d\": \"v\"", i)
	}
	in += "}"
	r := h.runIn(in, "import", "-")
	assert.Equal(t, r.code, 0, r.err)
	// 28 keys in commits of at most 10 (the backend's limit).
	assert.Equal(t, r.out, "imported 28 key(s) from stdin in 3 transaction(s), at revision 4\n")
	for p, want := range map[string]string{
		"/n": "1.5", "/o": "{\n  \"a\": [\n    true,\n    null\n  ],\n  \"b\": 1\n}", "/s": "1.50", "/k/24": "v",
	} {
		got, _ := h.value(p)
		assert.Equal(t, got, want, p)
	}
}

func TestImportProgressOnTerminal(t *testing.T) {
	h := newHarness(t)
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < progressMin; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\"/k/%04d\": \"v\"", i)
	}
	b.WriteString("}")
	r := h.runIn(b.String(), "import", "-")
	assert.Equal(t, r.err, "", "no bar without a terminal")
	h.terminal = true
	r = h.runIn(b.String(), "import", "-")
	assert.Equal(t, r.code, 0, r.err)
	assert.Assert(t, strings.HasSuffix(r.err, "\r[##############################] 1000/1000 keys 100%\n"), "%q", r.err)
}

func TestExportProgressOnTerminal(t *testing.T) {
	h := newHarness(t)
	kvs := make([]string, 0, 2*(progressMin+1))
	for i := 0; i <= progressMin; i++ {
		kvs = append(kvs, fmt.Sprintf("/k/%04d", i), "v")
	}
	h.put(kvs...)
	want := h.ok("export", "/k")
	h.terminal = true
	r := h.run("export", "/k")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, r.out, want)
	assert.Assert(t, strings.HasSuffix(r.err, "\r[##############################] 1001/1001 keys 100%\n"), "%q", r.err)
	// No bar when the tree itself goes to the terminal, nor for small trees.
	h.ttyOut = true
	assert.Equal(t, h.run("export", "/k").err, "")
	h.ttyOut = false
	h.put("/small", "1")
	assert.Equal(t, h.run("export", "/small").err, "")
}

func TestImportStoppedHalfWay(t *testing.T) {
	h := newHarness(t, memory.WithMaxTxnOps(10))
	var mu sync.Mutex
	commits := 0
	h.b = &hookBackend{Backend: h.mem, beforeCommit: func() {
		mu.Lock()
		defer mu.Unlock()
		commits++
		if commits == 2 {
			h.mem.Close() // the store goes away under the second commit
		}
	}}
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 28; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\"/k/%02d\": \"v\"", i)
	}
	b.WriteString("}")
	r := h.runIn(b.String(), "import", "-")
	wantError(t, r, exitError, "import stdin:", "backend closed", "of 28 keys written, every key before \"/k/", "run the import again to complete it")
}
