package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated part of docs/cli.md from the help texts")

const (
	docsFile       = "../../docs/cli.md"
	docsBegin      = "<!-- BEGIN GENERATED: the help texts; go test ./cmd/sdpcfg -run TestDocs -update-docs -->\n"
	docsEnd        = "<!-- END GENERATED -->\n"
	docsFence      = "```text\n"
	docsFenceClose = "```\n"
)

// generatedDocs returns the help of sdpcfg and of every command, as
// docs/cli.md holds them.
func generatedDocs(t *testing.T) string {
	h := newHarness(t)
	var b strings.Builder
	b.WriteString(docsBegin)
	b.WriteString("\n## sdpcfg --help\n\n" + docsFence + h.ok("--help") + docsFenceClose)
	for _, c := range commands() {
		b.WriteString("\n## sdpcfg " + c.name + "\n\n" + docsFence + h.ok(c.name, "--help") + docsFenceClose)
	}
	b.WriteString("\n" + docsEnd)
	return b.String()
}

func TestDocsMatchHelp(t *testing.T) {
	doc, err := os.ReadFile(docsFile)
	assert.NilError(t, err)
	i, j := bytes.Index(doc, []byte(docsBegin)), bytes.Index(doc, []byte(docsEnd))
	assert.Assert(t, i >= 0 && j > i, "docs/cli.md lacks the generated section markers")
	want := generatedDocs(t)
	if *updateDocs {
		out := append(append(append([]byte{}, doc[:i]...), want...), doc[j+len(docsEnd):]...)
		assert.NilError(t, os.WriteFile(docsFile, out, 0o644))
		return
	}
	assert.Equal(t, string(doc[i:j+len(docsEnd)]), want, "docs/cli.md is out of date: run go test ./cmd/sdpcfg -run TestDocs -update-docs")

	// The hand-written part mentions every command and global flag too.
	manual := string(doc[:i])
	for _, c := range commands() {
		assert.Assert(t, strings.Contains(manual, "sdpcfg "+c.name), "the guide part of docs/cli.md does not mention sdpcfg %s", c.name)
	}
	for _, f := range flagNames((&globalOptions{}).flagSet()) {
		if strings.HasPrefix(f, "--") {
			assert.Assert(t, strings.Contains(manual, "`"+f), "docs/cli.md does not document %s", f)
		}
	}
	for _, code := range []string{"| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |"} {
		assert.Assert(t, strings.Contains(manual, code), "docs/cli.md does not document exit code %s", code)
	}
}
