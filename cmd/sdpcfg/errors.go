package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// The exit codes of sdpcfg, documented in docs/cli.md.
const (
	exitOK       = 0 // success
	exitError    = 1 // any other failure: the store unreachable, refused, ...
	exitUsage    = 2 // bad command line, setting or input (values, import files)
	exitNotFound = 3 // the key (or subtree) does not exist
	exitConflict = 4 // the key exists already, or changed under an edit
)

// usageError is an error in what the user asked for: an unknown command or
// flag, wrong arguments, a bad setting, input that does not parse. It
// exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errConflict is matched by the errors of edits that found the key changed.
var errConflict = errors.New("was changed or deleted by someone else")

// opError returns err of operation op on path as "op path: reason",
// without the path the store's error repeats.
func opError(op, path string, err error) error {
	var pe *backend.PathError
	if errors.As(err, &pe) && errors.Unwrap(err) == pe.Err && pe.Err != nil {
		err = pe.Err
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

// pathReason returns why a path is invalid, without the package prefixes.
func pathReason(err error) string {
	var pe *backend.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return strings.TrimPrefix(err.Error(), backend.ErrInvalidPath.Error()+": ")
}

// exitCode is the one place that maps an error to an exit code.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, config.ErrInvalidSetting),
		errors.Is(err, backend.ErrInvalidPath), errors.Is(err, backend.ErrInvalidValue):
		return exitUsage
	case errors.Is(err, backend.ErrNotFound), errors.Is(err, backend.ErrVanished):
		return exitNotFound
	case errors.Is(err, backend.ErrCollision), errors.Is(err, txn.ErrConflict), errors.Is(err, errConflict),
		errors.Is(err, errCompareFailed):
		return exitConflict
	}
	return exitError
}

// message is the one place that turns an error into the line sdpcfg
// prints: "sdpcfg: " and the error on one line, without the package
// prefixes of the errors it wraps.
func message(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "--timeout") && !strings.Contains(msg, "TLS with"):
		msg += " (raise --timeout if the store is slow)"
	case errors.Is(err, backend.ErrPermissionDenied) && !strings.Contains(msg, "--user"):
		msg += " (check --user, SDP_CONFIG_PASSWORD and the user's roles)"
	}
	for _, p := range []string{"open etcd3: ", "etcd3: ", "sdpconfig: ", "config: ", "etcdserver: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	msg = strings.NewReplacer("\r\n", "; ", "\n", "; ", "\r", " ").Replace(strings.TrimSpace(msg)) // one line
	return "sdpcfg: " + msg
}
