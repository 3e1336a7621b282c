package topology

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrAlreadyApplied is matched by every *AlreadyAppliedError.
var ErrAlreadyApplied = errors.New("topology: another topology is already applied")

// ErrHashMismatch is recorded (and returned by Verify) when a pushed spec
// does not hash to the pushed version hash.
var ErrHashMismatch = errors.New("topology: version hash does not match the spec")

// AlreadyAppliedError is returned when an agent's applied row belongs to
// another topology than the one written: the old one must be cleared first.
type AlreadyAppliedError struct {
	Agent     string // the agent
	Current   string // the topology id of its applied row
	Requested string // the topology id that was refused
}

// Error names the agent and both topology ids.
func (e *AlreadyAppliedError) Error() string {
	return fmt.Sprintf("topology: agent %q already has topology %q; cannot apply %q", e.Agent, e.Current, e.Requested)
}

// Is reports whether target is ErrAlreadyApplied.
func (e *AlreadyAppliedError) Is(target error) bool { return target == ErrAlreadyApplied }

// MaxErrorLen is the most bytes of an error message recorded in a row or a
// heartbeat; longer ones are cut at a character boundary and end in "…".
const MaxErrorLen = 512

// Truncate returns msg cut to MaxErrorLen bytes at a character boundary.
func Truncate(msg string) string {
	if len(msg) <= MaxErrorLen {
		return msg
	}
	cut := MaxErrorLen - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}
