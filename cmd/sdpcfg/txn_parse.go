package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// compareTargets are the fields a txn file's "if" lines test.
var compareTargets = map[string]backend.CompareTarget{
	"mod":     backend.ModRevision,
	"create":  backend.CreateRevision,
	"version": backend.Version,
}

// compareOps are the relations of a txn file's "if" lines.
var compareOps = map[string]backend.CompareOp{
	"=": backend.Equal, "!=": backend.NotEqual, "<": backend.Less, ">": backend.Greater,
}

// parseTxn reads a txn file: one compare or op per line,
//
//	if FIELD [-R] PATH OP NUMBER   FIELD mod, create or version; OP =, !=, < or >
//	then put PATH VALUE            VALUE is the rest of the line
//	then delete [-R] PATH
//	else put PATH VALUE
//	else delete [-R] PATH
//
// with blank lines and lines starting with "#" ignored. -R takes PATH and
// every key below it. Values are checked and stored as put stores them
// (flags). Every error names the line.
func parseTxn(r io.Reader, name string, flags valueFlags) (txnFile, error) {
	var t txnFile
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := t.parseLine(line, flags); err != nil {
			return t, usagef("txn: %s, line %d: %v", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return t, fmt.Errorf("txn: reading %s: %w", name, err)
	}
	if len(t.If)+t.thenLines+t.elseLines == 0 {
		return t, usagef("txn: %s holds no compare and no op (see 'sdpcfg help txn')", name)
	}
	return t, nil
}

// txnFile is a parsed txn file: the commit, and the number of then and
// else lines (a -R line is several ops).
type txnFile struct {
	backend.Txn
	thenLines, elseLines int
}

// parseLine adds the compare or op of one line to t.
func (t *txnFile) parseLine(line string, flags valueFlags) error {
	word, rest := cut(line)
	switch word {
	case "if":
		cs, err := parseCompare(rest)
		t.If = append(t.If, cs...)
		return err
	case "then", "else":
		ops, err := parseOp(rest, flags)
		if word == "then" {
			t.Then = append(t.Then, ops...)
			t.thenLines++
		} else {
			t.Else = append(t.Else, ops...)
			t.elseLines++
		}
		return err
	}
	return fmt.Errorf("%q: a line starts with if, then or else", word)
}

// parseCompare reads "FIELD [-R] PATH OP NUMBER".
func parseCompare(s string) ([]backend.Compare, error) {
	field, s := cut(s)
	target, ok := compareTargets[field]
	if !ok {
		return nil, fmt.Errorf("if %q: compare mod, create or version", field)
	}
	ranges, s, err := parseRanges(s)
	if err != nil {
		return nil, err
	}
	op, s := cut(s)
	cop, ok := compareOps[op]
	if !ok {
		return nil, fmt.Errorf("if %s %s %q: the relation is =, !=, < or >", field, ranges[0].Path, op)
	}
	num, extra := cut(s)
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 || extra != "" {
		return nil, fmt.Errorf("if %s %s %s %q: want one revision or version number", field, ranges[0].Path, op, s)
	}
	cs := make([]backend.Compare, len(ranges))
	for i, r := range ranges {
		cs[i] = backend.Compare{Range: r, Target: target, Op: cop, Value: v}
	}
	return cs, nil
}

// parseOp reads "put PATH VALUE" or "delete [-R] PATH".
func parseOp(s string, flags valueFlags) ([]backend.Op, error) {
	verb, s := cut(s)
	switch verb {
	case "put":
		p, value := cut(s)
		path, err := linePath(p, false)
		if err != nil {
			return nil, err
		}
		if value == "" {
			return nil, fmt.Errorf("put %s: no value (it is the rest of the line)", path)
		}
		if value, err = flags.prepare(path, value); err != nil {
			return nil, err
		}
		return []backend.Op{backend.Put(path, value, backend.NoLease)}, nil
	case "delete", "del":
		ranges, extra, err := parseRanges(s)
		if err != nil {
			return nil, err
		}
		if extra != "" {
			return nil, fmt.Errorf("delete %s: unexpected %q after the path", ranges[0].Path, extra)
		}
		ops := make([]backend.Op, len(ranges))
		for i, r := range ranges {
			ops[i] = backend.Delete(r)
		}
		return ops, nil
	}
	return nil, fmt.Errorf("%q: the op is put or delete", verb)
}

// parseRanges reads "[-R] PATH" and returns its ranges: the key, and with
// -R its whole subtree too.
func parseRanges(s string) ([]backend.Range, string, error) {
	p, rest := cut(s)
	recursive := p == "-R"
	if recursive {
		p, rest = cut(rest)
	}
	path, err := linePath(p, recursive)
	if err != nil {
		return nil, "", err
	}
	var rs []backend.Range
	if path != "/" {
		rs = append(rs, backend.Key(path))
	}
	if recursive {
		rs = append(rs, backend.Subtree(path)...)
	}
	return rs, rest, nil
}

// cut splits s at its first run of spaces.
func cut(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// linePath checks a path of a txn line, as cleanPath does for arguments.
func linePath(arg string, root bool) (string, error) {
	p := arg
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "/" && root {
		return p, nil
	}
	if err := backend.ValidatePath(p); err != nil {
		return "", fmt.Errorf("invalid path %q: %s", arg, pathReason(err))
	}
	return p, nil
}
