package backendtest

import (
	"fmt"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

var pathCases = []testCase{
	{"InvalidKeyPaths", testInvalidKeyPaths},
	{"InvalidPrefixes", testInvalidPrefixes},
	{"InvalidCommitPaths", testInvalidCommitPaths},
	{"InvalidValues", testInvalidValues},
	{"ValidPathsRoundTrip", testValidPathsRoundTrip},
	{"ValuesRoundTrip", testValuesRoundTrip},
}

// badKeyPaths break the key path rules (see backend.ValidatePath).
var badKeyPaths = []string{
	"", "pb", "pb/x", "/", "/pb/", "//pb", "/pb//x", "/pb/\xff",
}

// badWritePaths are valid key paths (another program can write them, and
// they can be read) that sdpconfig does not write: see
// backend.ValidateWritePath.
var badWritePaths = []string{"/pb\n", "/pb\t", "/pb/a\x00b", "/pb/\x7f"}

// badPrefixes break the prefix rules (see backend.ValidatePrefix).
var badPrefixes = []string{"", "pb", "//", "/pb//", "/pb/\xff"}

// testInvalidKeyPaths: every method taking a key path rejects a bad one
// with ErrInvalidPath naming it, and writes nothing.
func testInvalidKeyPaths(h *harness) {
	h.create("/pb/keep", "v")
	before := h.rev()
	for _, p := range badKeyPaths {
		_, _, err := h.b.Get(h.ctx, p, 0)
		h.wantErr(fmt.Sprintf("Get(%q)", p), err, backend.ErrInvalidPath, p)
		_, err = h.b.Create(h.ctx, p, "v", backend.NoLease)
		h.wantErr(fmt.Sprintf("Create(%q)", p), err, backend.ErrInvalidPath, p)
		_, err = h.b.Update(h.ctx, p, "v")
		h.wantErr(fmt.Sprintf("Update(%q)", p), err, backend.ErrInvalidPath, p)
		for _, opts := range []backend.DeleteOptions{{}, {MustExist: true}, {Recursive: true}} {
			_, err = h.b.Delete(h.ctx, p, opts)
			h.wantErr(fmt.Sprintf("Delete(%q, %+v)", p, opts), err, backend.ErrInvalidPath, p)
		}
		ws, err := h.b.Watch(h.ctx, []backend.Range{backend.Key("/pb/keep"), backend.Key(p)}, 0)
		h.wantErr(fmt.Sprintf("Watch(Key(%q))", p), err, backend.ErrInvalidPath, p)
		if ws != nil {
			_ = ws.Close()
		}
	}
	for _, p := range badWritePaths {
		_, err := h.b.Create(h.ctx, p, "v", backend.NoLease)
		h.wantErr(fmt.Sprintf("Create(%q)", p), err, backend.ErrInvalidPath, p)
		_, err = h.b.Update(h.ctx, p, "v")
		h.wantErr(fmt.Sprintf("Update(%q)", p), err, backend.ErrInvalidPath, p)
		_, err = h.b.Commit(h.ctx, backend.Txn{Then: []backend.Op{backend.Put(p, "v", backend.NoLease)}})
		h.wantErr(fmt.Sprintf("Commit(Put(%q))", p), err, backend.ErrInvalidPath, p)
		// Reading and deleting such a key is allowed: another program may
		// have written it.
		_, _, err = h.b.Get(h.ctx, p, 0)
		h.wantErr(fmt.Sprintf("Get(%q)", p), err, backend.ErrNotFound, p)
		if _, err = h.b.Delete(h.ctx, p, backend.DeleteOptions{}); err != nil {
			h.Errorf("Delete(%q) = %v, want nil", p, err)
		}
	}
	h.wantRev(before, "after rejected calls")
	if got := h.value("/pb/keep"); got != "v" {
		h.Errorf("/pb/keep = %q after rejected calls, want %q", got, "v")
	}
}

// testInvalidPrefixes: List, Delete with Prefix and Watch reject a bad
// prefix with ErrInvalidPath naming it; "/" and a prefix ending in "/" are
// valid prefixes but not valid keys.
func testInvalidPrefixes(h *harness) {
	h.create("/pb/keep", "v")
	before := h.rev()
	for _, p := range badPrefixes {
		_, err := h.b.List(h.ctx, p, backend.ListOptions{})
		h.wantErr(fmt.Sprintf("List(%q)", p), err, backend.ErrInvalidPath, p)
		_, err = h.b.Delete(h.ctx, p, backend.DeleteOptions{Prefix: true})
		h.wantErr(fmt.Sprintf("Delete(%q, Prefix)", p), err, backend.ErrInvalidPath, p)
		_, err = h.b.Delete(h.ctx, p, backend.DeleteOptions{Prefix: true, Recursive: true})
		h.wantErr(fmt.Sprintf("Delete(%q, Prefix|Recursive)", p), err, backend.ErrInvalidPath, p)
		ws, err := h.b.Watch(h.ctx, []backend.Range{backend.PrefixAt(p, 0)}, 0)
		h.wantErr(fmt.Sprintf("Watch(PrefixAt(%q))", p), err, backend.ErrInvalidPath, p)
		if ws != nil {
			_ = ws.Close()
		}
	}
	// A prefix range whose depth is above its prefix is invalid.
	ws, err := h.b.Watch(h.ctx, []backend.Range{backend.PrefixAt("/pb/x/", 1)}, 0)
	h.wantErr(`Watch(PrefixAt("/pb/x/", 1))`, err, backend.ErrInvalidPath, "/pb/x/")
	if ws != nil {
		_ = ws.Close()
	}
	// Valid prefixes that are not keys.
	for _, p := range []string{"/", "/pb/", "/p"} {
		if _, err := h.b.List(h.ctx, p, backend.ListOptions{}); err != nil {
			h.Errorf("List(%q) = %v, want no error (a valid prefix)", p, err)
		}
	}
	res, err := h.b.Delete(h.ctx, "/pb/nothing/", backend.DeleteOptions{Prefix: true})
	if err != nil || res.Deleted != 0 {
		h.Errorf(`Delete("/pb/nothing/", Prefix) = %+v, %v; want 0 deleted, no error`, res, err)
	}
	h.wantRev(before, "after rejected calls")
	if got := h.value("/pb/keep"); got != "v" {
		h.Errorf("/pb/keep = %q after rejected calls, want %q", got, "v")
	}
}

// testInvalidCommitPaths: a commit with a bad path in any compare or op, in
// either branch, fails with ErrInvalidPath naming it and writes nothing,
// not even its valid ops.
func testInvalidCommitPaths(h *harness) {
	h.create("/pb/keep", "v")
	before := h.rev()
	good := backend.Put("/pb/new", "x", backend.NoLease)
	cases := []struct {
		name string
		path string
		txn  backend.Txn
	}{
		{"compare on bad key", "/pb/", backend.Txn{
			If:   []backend.Compare{{Range: backend.Key("/pb/"), Target: backend.ModRevision, Op: backend.Equal}},
			Then: []backend.Op{good},
		}},
		{"compare on bad prefix", "//", backend.Txn{
			If:   []backend.Compare{{Range: backend.PrefixAt("//", 0), Target: backend.Version, Op: backend.Equal}},
			Then: []backend.Op{good},
		}},
		{"compare on range with depth above its prefix", "/pb/x/", backend.Txn{
			If:   []backend.Compare{{Range: backend.PrefixAt("/pb/x/", 1), Target: backend.Version, Op: backend.Equal}},
			Then: []backend.Op{good},
		}},
		{"put to bad key in Then", "/pb/a\nb", backend.Txn{
			Then: []backend.Op{good, backend.Put("/pb/a\nb", "x", backend.NoLease)},
		}},
		{"put to bad key in Else", "pb/x", backend.Txn{
			Then: []backend.Op{good},
			Else: []backend.Op{backend.Put("pb/x", "x", backend.NoLease)},
		}},
		{"delete of bad key", "/pb/", backend.Txn{
			Then: []backend.Op{good, backend.Delete(backend.Key("/pb/"))},
		}},
		{"delete of bad prefix", "/pb//", backend.Txn{
			Then: []backend.Op{good, backend.Delete(backend.PrefixAt("/pb//", 0))},
		}},
	}
	// A commit both over the op limit and with a bad path fails for the
	// path: content is checked before size (see backend.Backend.Commit).
	if l, ok := h.b.(backend.Limiter); ok && l.MaxTxnOps() > 0 {
		big := backend.Txn{}
		for i := 0; i <= l.MaxTxnOps(); i++ {
			big.Then = append(big.Then, backend.Put(fmt.Sprintf("/pb/big/%d", i), "x", backend.NoLease))
		}
		big.Then[len(big.Then)/2] = backend.Put("/pb/big//x", "x", backend.NoLease)
		cases = append(cases, struct {
			name string
			path string
			txn  backend.Txn
		}{"bad key in a commit over the op limit", "/pb/big//x", big})
	}
	for _, c := range cases {
		_, err := h.b.Commit(h.ctx, c.txn)
		h.wantErr("Commit with "+c.name, err, backend.ErrInvalidPath, c.path)
	}
	h.wantRev(before, "after rejected commits")
	h.missing("/pb/new")
}

// testInvalidValues: a value that is not UTF-8 is rejected with
// ErrInvalidValue naming the path, on every method that writes one.
func testInvalidValues(h *harness) {
	h.create("/pb/v", "old")
	before := h.rev()
	const bad = "ok\xff\xfe"
	_, err := h.b.Create(h.ctx, "/pb/w", bad, backend.NoLease)
	h.wantErr("Create with a non-UTF-8 value", err, backend.ErrInvalidValue, "/pb/w")
	_, err = h.b.Update(h.ctx, "/pb/v", bad)
	h.wantErr("Update with a non-UTF-8 value", err, backend.ErrInvalidValue, "/pb/v")
	_, err = h.b.Commit(h.ctx, backend.Txn{Then: []backend.Op{
		backend.Put("/pb/x", "fine", backend.NoLease),
		backend.Put("/pb/v", bad, backend.NoLease),
	}})
	h.wantErr("Commit putting a non-UTF-8 value in Then", err, backend.ErrInvalidValue, "/pb/v")
	_, err = h.b.Commit(h.ctx, backend.Txn{
		Then: []backend.Op{backend.Put("/pb/x", "fine", backend.NoLease)},
		Else: []backend.Op{backend.Put("/pb/v", bad, backend.NoLease)},
	})
	h.wantErr("Commit putting a non-UTF-8 value in Else", err, backend.ErrInvalidValue, "/pb/v")
	h.wantRev(before, "after rejected writes")
	h.missing("/pb/w")
	h.missing("/pb/x")
	if got := h.value("/pb/v"); got != "old" {
		h.Errorf("/pb/v = %q after rejected writes, want %q", got, "old")
	}
}

// testValidPathsRoundTrip: unusual but valid paths are stored and listed
// unchanged.
func testValidPathsRoundTrip(h *harness) {
	ps := []string{
		"/a", "/pb/é", "/pb/日本/語", "/pb/x.y-z_w~", "/pb/10.0.0.1%2F24", "/pb/@:=+,;!'()*", "/pb/%-",
		"/pb/sub 01", "/pb/a%b", "/pb/50%", "/pb/\u00a0", // as ska-sdp-config writes ids
		"/pb/" + strings.Repeat("s", 200),
	}
	for _, p := range ps {
		h.create(p, "v:"+p)
	}
	for _, p := range ps {
		kv := h.get(p)
		if kv.Path != p || kv.Value != "v:"+p {
			h.Errorf("Get(%q) = %s, want that path with value %q", p, fmtKV(kv), "v:"+p)
		}
	}
	res := h.list("/pb/", backend.ListOptions{Recurse: 1, WithValues: true})
	h.wantPaths(`List("/pb/", Recurse 1)`, res.KVs,
		"/pb/%-", "/pb/10.0.0.1%2F24", "/pb/50%", "/pb/@:=+,;!'()*", "/pb/a%b", "/pb/"+strings.Repeat("s", 200),
		"/pb/sub 01", "/pb/x.y-z_w~", "/pb/\u00a0", "/pb/é", "/pb/日本/語")
}

// testValuesRoundTrip: values are stored byte for byte, and an empty value
// is a present key, not a missing one.
func testValuesRoundTrip(h *harness) {
	vals := map[string]string{
		"/v/empty":   "",
		"/v/lines":   "a\nb\r\nc\t",
		"/v/unicode": "日本語 é \u00a0 \U0001F600",
		"/v/json":    "{\n  \"a\": [\n    1,\n    2\n  ]\n}",
		"/v/nul":     "a\x00b",
		"/v/large":   strings.Repeat("0123456789abcdef", 4096),
	}
	for _, p := range sortedKeys(vals) {
		h.create(p, vals[p])
	}
	for _, p := range sortedKeys(vals) {
		if got := h.get(p).Value; got != vals[p] {
			h.Errorf("Get(%q).Value = %q (len %d), want %q (len %d)", p, trunc(got), len(got), trunc(vals[p]), len(vals[p]))
		}
	}
	res := h.list("/v/", backend.ListOptions{WithValues: true})
	h.wantPaths(`List("/v/")`, res.KVs, sortedKeys(vals)...)
	for _, kv := range res.KVs {
		if kv.Value != vals[kv.Path] {
			h.Errorf("List value of %q = %q, want %q", kv.Path, trunc(kv.Value), trunc(vals[kv.Path]))
		}
	}
	// A Binary put stores any bytes, as another program may have.
	const raw = "ok\xff\xfe\x00"
	if _, err := h.b.Commit(h.ctx, backend.Txn{Then: []backend.Op{{Kind: backend.OpPut, Range: backend.Key("/v/binary"), Value: raw, Binary: true}}}); err != nil {
		h.Errorf("Commit of a Binary put: %v", err)
	} else if got := h.get("/v/binary").Value; got != raw {
		h.Errorf("Get(/v/binary).Value = %q, want %q", got, raw)
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
