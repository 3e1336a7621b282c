package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestTxn(t *testing.T) {
	h := newHarness(t)
	h.put("/tmp/x", "1", "/tmp/x/y", "2")
	rev := h.put("/pb/a", `{"n":1}`)

	script := fmt.Sprintf(`# move a forward if nobody touched it
if mod /pb/a = %d
if version /pb/b = 0
then put /pb/a {"n": 2}
then put /notes/msg hello world
then delete -R /tmp/x
else put /notes/msg lost
`, rev)
	r := h.runIn(script, "txn")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, r.out, fmt.Sprintf("compares held: ran 3 then op(s) at revision %d, deleting 2 key(s)\n", rev+1))
	v, _ := h.value("/pb/a")
	assert.Equal(t, v, "{\n  \"n\": 2\n}")
	v, _ = h.value("/notes/msg")
	assert.Equal(t, v, "hello world")
	_, ok := h.value("/tmp/x/y")
	assert.Assert(t, !ok)

	// The same file again: the compare fails, the else branch runs, exit 4.
	file := filepath.Join(t.TempDir(), "move.txn")
	assert.NilError(t, os.WriteFile(file, []byte(script), 0o600))
	r = h.run("txn", "-o", "json", file)
	assert.Equal(t, r.code, exitConflict)
	assert.Equal(t, r.err, "sdpcfg: txn: the compares failed; the else ops ran\n")
	assert.Equal(t, r.out, fmt.Sprintf("{\n  \"succeeded\": false,\n  \"branch\": \"else\",\n  \"ops\": 1,\n  \"revision\": %d\n}\n", rev+2))
	v, _ = h.value("/notes/msg")
	assert.Equal(t, v, "lost")

	// Prefix compares: nothing at or below /pb changed since, nothing is
	// left at or below /tmp/x; and one that fails.
	now := h.revision()
	assert.Equal(t, h.runIn(fmt.Sprintf("if mod -R /pb < %d\nif version -R /tmp/x = 0\nthen put /notes/all ok\n", now+1), "txn", "-q").code, 0)
	assert.Equal(t, h.runIn(fmt.Sprintf("if mod -R /notes < %d\nthen put /notes/all again\n", now+1), "txn", "-q").code, exitConflict)
}

func TestTxnRefusesBadFilesBeforeWriting(t *testing.T) {
	h := newHarness(t)
	rev := h.revision()
	for _, c := range []struct{ script, want string }{
		{"", "txn: stdin holds no compare and no op"},
		{"# only a comment\n\n", "txn: stdin holds no compare and no op"},
		{"then put /a 1\nwhen mod /a = 1\n", `txn: stdin, line 2: "when": a line starts with if, then or else`},
		{"if size /a = 1\n", `line 1: if "size": compare mod, create or version`},
		{"if mod /a ~ 1\n", `line 1: if mod /a "~": the relation is =, !=, < or >`},
		{"if mod /a = x\n", `line 1: if mod /a = "x": want one revision or version number`},
		{"if mod /a = 1 2\n", `line 1: if mod /a = "1 2": want one revision or version number`},
		{"if mod a = 1\n", `line 1: invalid path "a"`},
		{"then put /a\n", "line 1: put /a: no value (it is the rest of the line)"},
		{"then put /pb/x not json\n", "line 1: value for /pb/x is not valid JSON"},
		{"then delete /a extra\n", `line 1: delete /a: unexpected "extra" after the path`},
		{"then move /a /b\n", `line 1: "move": the op is put or delete`},
	} {
		wantError(t, h.runIn(c.script, "txn"), exitUsage, c.want)
	}
	wantError(t, h.run("txn", "/nonexistent/file.txn"), exitUsage, "txn: open /nonexistent/file.txn: no such file or directory")
	wantError(t, h.run("txn", "a", "b"), exitUsage, "txn")
	assert.Equal(t, h.revision(), rev, "nothing was written")
	// --raw lets text onto a typed path, as put does.
	assert.Equal(t, h.runIn("then put /pb/x not json\n", "txn", "--raw", "-q").code, 0)
}

// txn against Debian's etcd 3.4, with etcdctl as the peer that writes the
// key compared and reads what the txn wrote; lease commands there too.
func TestTxnAndLeaseWithDebianEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Debian's etcd")
	}
	d := sdptest.NewDebianEtcd(t)
	h := newEtcdHarness(t, d.Endpoints()[0])
	d.Etcdctl(t, "put", "2/pb/a", `{"n": 1}`)
	out := d.Etcdctl(t, "get", "-w", "fields", "2/pb/a")
	m := regexp.MustCompile(`"ModRevision" : (\d+)`).FindStringSubmatch(out)
	assert.Assert(t, m != nil, out)
	r := h.runIn("if mod /pb/a = "+m[1]+"\nthen put /pb/a/state {\"status\": \"RUNNING\"}\nthen delete /pb/a\n", "txn")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, d.Etcdctl(t, "get", "--print-value-only", "3/pb/a/state"), "{\n  \"status\": \"RUNNING\"\n}\n")
	assert.Equal(t, d.Etcdctl(t, "get", "2/pb/a"), "")

	// A lease granted by sdpcfg, a key attached by etcdctl, revoked by sdpcfg.
	r = h.run("lease", "grant", "120s")
	assert.Equal(t, r.code, 0, r.err)
	id := regexp.MustCompile(`lease ([0-9a-f]+) granted`).FindStringSubmatch(r.out)[1]
	d.Etcdctl(t, "put", "--lease="+id, "2/pb/leased", "v")
	assert.Assert(t, strings.Contains(d.Etcdctl(t, "lease", "list"), id), "etcdctl lists the lease")
	r = h.run("lease", "timetolive", id)
	assert.Equal(t, r.code, 0, r.err)
	assert.Assert(t, strings.HasSuffix(r.out, "; keys /pb/leased\n"), r.out)
	// A lease granted by etcdctl, listed and revoked by sdpcfg.
	m = regexp.MustCompile(`lease ([0-9a-f]+) granted`).FindStringSubmatch(d.Etcdctl(t, "lease", "grant", "300"))
	assert.Assert(t, m != nil)
	r = h.run("lease", "ls")
	assert.Assert(t, strings.Contains(r.out, m[1]+"\n") && strings.Contains(r.out, id+"\n"), r.out)
	assert.Equal(t, h.run("lease", "revoke", id).code, 0)
	assert.Equal(t, d.Etcdctl(t, "get", "2/pb/leased"), "")
	assert.Equal(t, h.run("lease", "revoke", m[1]).code, 0)
	assert.Equal(t, strings.TrimSpace(d.Etcdctl(t, "lease", "list")), "found 0 leases")
}
