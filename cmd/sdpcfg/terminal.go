package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// isTerminal tells whether stream is an *os.File open on a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// password returns the password of user: asked on the terminal, without
// echo, when stdin is one. Otherwise it fails, saying how to give it.
func (e *env) password(ctx context.Context, user string) (string, error) {
	if !e.isTerminal(e.in) {
		return "", usagef("no password for user %q: set SDP_CONFIG_PASSWORD, or run sdpcfg on a terminal to be asked for it", user)
	}
	fmt.Fprintf(e.errOut, "Password for %s: ", user)
	pw, err := e.readPassword(ctx, e.in)
	fmt.Fprintln(e.errOut)
	if err != nil {
		return "", fmt.Errorf("reading the password of user %q: %w", user, err)
	}
	return pw, nil
}

// readPassword reads one line from the terminal in with echo turned off,
// and restores the terminal before it returns, also when ctx ends (Ctrl-C)
// while it waits. It polls rather than blocking in read, so that no
// goroutine is left waiting on the terminal.
func readPassword(ctx context.Context, in any) (string, error) {
	f, ok := in.(*os.File)
	if !ok {
		return "", errors.New("stdin is not a terminal")
	}
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("stdin is not a terminal: %w", err)
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("turning off echo: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)

	var line []byte
	buf := make([]byte, 1)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return "", err
		}
		if n == 0 || errors.Is(err, unix.EINTR) {
			continue
		}
		// Read one byte at a time so that nothing after the line is
		// taken from stdin.
		m, err := unix.Read(fd, buf)
		if err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
			return "", err
		}
		if m == 0 && err == nil { // end of input
			return strings.TrimRight(string(line), "\r"), nil
		}
		if m == 1 {
			if buf[0] == '\n' {
				return strings.TrimRight(string(line), "\r"), nil
			}
			line = append(line, buf[0])
		}
	}
}
