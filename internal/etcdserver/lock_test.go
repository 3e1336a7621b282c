package etcdserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// A second server on a data directory in use fails at once, naming the
// directory and the pid of the server holding it, instead of waiting on
// etcd's lock forever. The bound is on the wait for the answer, far above
// the milliseconds it takes: the test is that Start answers at all.
func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{DataDir: dir, NoFsync: true, FastTicks: true})
	assert.NilError(t, err)
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = Start(ctx, Config{DataDir: dir, NoFsync: true, FastTicks: true})
	assert.ErrorIs(t, err, ErrDataDirInUse)
	assert.ErrorContains(t, err, dir)
	assert.ErrorContains(t, err, fmt.Sprintf("pid %d", os.Getpid()))
	assert.NilError(t, ctx.Err(), "Start waited for the lock")
}

// A directory whose etcd database another etcd holds (one not started
// through this package, so with no lock file of ours) is refused too.
func TestDataDirHeldByAnotherEtcd(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{DataDir: dir, NoFsync: true, FastTicks: true})
	assert.NilError(t, err)
	defer s.Close()
	// Pretend that server did not leave our lock file: only etcd's own
	// lock on its database remains.
	s.lock.release()
	assert.NilError(t, os.Remove(filepath.Join(dir, lockFile)))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = Start(ctx, Config{DataDir: dir, NoFsync: true, FastTicks: true})
	assert.ErrorIs(t, err, ErrDataDirInUse)
	assert.NilError(t, ctx.Err(), "Start waited for the lock")
}

// The lock is released by Close: the directory can be served again.
func TestDataDirFreedByClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{DataDir: dir, NoFsync: true, FastTicks: true})
	assert.NilError(t, err)
	assert.NilError(t, s.Close())
	s2, err := Start(context.Background(), Config{DataDir: dir, NoFsync: true, FastTicks: true})
	assert.NilError(t, err)
	assert.NilError(t, s2.Close())
}
