package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// openPTY opens a pseudo-terminal pair, or skips the test.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	assert.NilError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	assert.NilError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	assert.NilError(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

func TestReadPasswordDoesNotEcho(t *testing.T) {
	m, s := openPTY(t)
	assert.Assert(t, isTerminal(s))
	assert.Assert(t, !isTerminal(strings.NewReader("")))
	f, err := os.CreateTemp(t.TempDir(), "f")
	assert.NilError(t, err)
	defer f.Close()
	assert.Assert(t, !isTerminal(f))

	type res struct {
		pw  string
		err error
	}
	done := make(chan res)
	go func() {
		pw, err := readPassword(context.Background(), s)
		done <- res{pw, err}
	}()
	// The terminal's echo is off once readPassword reads: wait for it.
	sdptest.WaitFor(t, "echo off", func() bool {
		tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
		return err == nil && tio.Lflag&unix.ECHO == 0
	})
	_, err = m.WriteString("s3cret\n")
	assert.NilError(t, err)
	r := <-done
	assert.NilError(t, r.err)
	assert.Equal(t, r.pw, "s3cret")

	// Echo is back on: what is typed now is echoed, the password was not.
	_, err = m.WriteString("visible\n")
	assert.NilError(t, err)
	var seen bytes.Buffer
	buf := make([]byte, 256)
	for !strings.Contains(seen.String(), "visible") {
		n, err := m.Read(buf)
		assert.NilError(t, err)
		seen.Write(buf[:n])
	}
	assert.Assert(t, !strings.Contains(seen.String(), "s3cret"), "password echoed: %q", seen.String())
}

func TestReadPasswordRestoresTheTerminalWhenInterrupted(t *testing.T) {
	_, s := openPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := readPassword(ctx, s)
	assert.ErrorIs(t, err, context.Canceled)
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	assert.NilError(t, err)
	assert.Assert(t, tio.Lflag&unix.ECHO != 0)
	_, err = readPassword(context.Background(), strings.NewReader(""))
	assert.ErrorContains(t, err, "not a terminal")
}
