package etcdserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrDataDirInUse reports a data directory that another server serves.
var ErrDataDirInUse = errors.New("data directory in use by another server")

// lockFile is the file, in a data directory, that a running server holds
// locked and that names its pid.
const lockFile = "sdpcfg.lock"

// dirLock is a server's hold on its data directory.
type dirLock struct{ f *os.File }

// lockDataDir takes the lock of dir, or fails at once with an error
// wrapping ErrDataDirInUse: etcd itself would wait on its database's lock
// forever, deaf to signals. A directory is in use when a server of this
// package holds its lock file (which names the pid), or when any etcd
// holds its database (member/snap/db).
func lockDataDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("etcdserver: data directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, inUse(dir, readPid(f))
		}
		return nil, fmt.Errorf("etcdserver: locking %s: %w", path, err)
	}
	if dbHeld(filepath.Join(dir, "member", "snap", "db")) {
		f.Close()
		return nil, inUse(dir, 0)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// DataDirInUseError is the error of Start for a data directory that
// another server serves. It matches ErrDataDirInUse.
type DataDirInUseError struct {
	Dir string // the data directory
	Pid int    // the pid of the server holding it, 0 if not known
}

// Error says which directory is in use, and by which pid if known.
func (e *DataDirInUseError) Error() string {
	if e.Pid > 0 {
		return fmt.Sprintf("data directory %s is in use by another server (pid %d)", e.Dir, e.Pid)
	}
	return fmt.Sprintf("data directory %s is in use by another server", e.Dir)
}

// Is makes the error match ErrDataDirInUse.
func (e *DataDirInUseError) Is(target error) bool { return target == ErrDataDirInUse }

// inUse is the error for dir in use by the process pid (0: unknown).
func inUse(dir string, pid int) error { return &DataDirInUseError{Dir: dir, Pid: pid} }

// readPid returns the pid written in a lock file, or 0.
func readPid(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return 0
	}
	return pid
}

// dbHeld reports whether a bbolt database file is locked by its user (an
// etcd serving it), probing with a shared lock that never waits.
func dbHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false // no database yet, or none we could open: etcd will say
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}

// release lets the directory go. It is idempotent.
func (l *dirLock) release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
