package sqlsource

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"

	_ "github.com/lib/pq" // the PostgreSQL driver under test
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// startPostgres starts Debian's PostgreSQL server on a free loopback port
// in a directory of its own (as the postgres user when the test runs as
// root, which initdb refuses) and returns a database handle on it; both
// end with the test. It skips when the server is not installed.
func startPostgres(t *testing.T) *sql.DB {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("needs Debian's postgresql package (apt-get install postgresql)")
	}
	sort.Strings(bins)
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "sqlsource-pg-")
	assert.NilError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	assert.NilError(t, os.Chmod(dir, 0o755))
	var as *syscall.Credential // the user to run the server as, when root
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("runs as root and needs the postgres user that Debian's postgresql package makes")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		assert.NilError(t, os.Chown(dir, uid, gid))
		as = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		if as != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: as}
		}
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "test", "--auth=trust", "-E", "UTF8").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var logs bytes.Buffer
	srv := run("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
	srv.Stdout, srv.Stderr = &logs, &logs
	assert.NilError(t, srv.Start())
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGINT) // fast shutdown
		_ = srv.Wait()
	})
	db, err := sql.Open("postgres", fmt.Sprintf("host=127.0.0.1 port=%d user=test dbname=postgres sslmode=disable", port))
	assert.NilError(t, err)
	t.Cleanup(func() { db.Close() })
	sdptest.WaitFor(t, "PostgreSQL to accept connections on port "+strconv.Itoa(port), func() bool {
		if srv.ProcessState != nil {
			t.Fatalf("postgres exited: %s", logs.String())
		}
		return db.PingContext(context.Background()) == nil
	})
	return db
}

const desirePostgres = `
CREATE TABLE cloud_service_providers (id SERIAL PRIMARY KEY, name TEXT NOT NULL, upgrade_allowed INTEGER, updated_at TEXT);
CREATE TABLE cloud_regions (id SERIAL PRIMARY KEY, name TEXT NOT NULL, external_ref TEXT, parent_id INTEGER REFERENCES cloud_service_providers(id), updated_at TEXT);
CREATE TABLE cloud_handovers (id SERIAL PRIMARY KEY, name TEXT NOT NULL, external_ref TEXT, parent_id INTEGER REFERENCES cloud_regions(id), updated_at TEXT);
CREATE TABLE nics (id SERIAL PRIMARY KEY, name TEXT NOT NULL, external_ref TEXT, parent_id INTEGER REFERENCES cloud_handovers(id), updated_at TEXT);
`

// TestDemoWithDesireInPostgreSQL runs the seed's demo with Desire in
// PostgreSQL ("$1" placeholders, ids by RETURNING): 27, 16, 0 operations
// and the seed's final state.
func TestDemoWithDesireInPostgreSQL(t *testing.T) {
	db := startPostgres(t)
	_, err := db.Exec(desirePostgres)
	assert.NilError(t, err)
	desire, err := NewDialect("desire", db, PostgreSQL, openDesire(t).tableList()...)
	assert.NilError(t, err)
	ctx := context.Background()
	_, _, runs := convergeDemo(t, desire)
	assert.Equal(t, len(runs), 3)
	assert.Equal(t, len(runs[0].Ops), 27)
	assert.Equal(t, len(runs[1].Ops), 16)
	got, err := datasync.Describe(ctx, desire, datasync.DemoRightTypes)
	assert.NilError(t, err)
	sort.Strings(got)
	want := append([]string(nil), demoFinalDesire...)
	sort.Strings(want)
	assert.DeepEqual(t, got, want)

	nics, err := desire.Find(ctx, datasync.DemoNIC, datasync.Where{"name": "nic-1"})
	assert.NilError(t, err)
	assert.Equal(t, len(nics), 1)
	assert.NilError(t, desire.Delete(ctx, nics[0].Ref()))
	_, err = desire.Get(ctx, nics[0].Ref())
	assert.ErrorIs(t, err, datasync.ErrNotFound)
}
