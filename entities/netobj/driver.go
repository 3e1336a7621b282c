package netobj

import (
	"context"
	"errors"
)

// Errors of drivers and commits. Callers test them with errors.Is.
var (
	// ErrExists is what a driver's Add returns for an object that exists
	// (EEXIST).
	ErrExists = errors.New("netobj: object exists")
	// ErrNotExist is what a driver's Delete or Set returns for an object
	// that does not exist (ENODEV, ESRCH, EADDRNOTAVAIL).
	ErrNotExist = errors.New("netobj: object does not exist")
	// ErrUnsupported is what a driver returns for a kind of object the
	// system cannot create, such as a link type the kernel lacks.
	ErrUnsupported = errors.New("netobj: not supported")
	// ErrInvalidObject is an object whose fields are wrong or missing.
	ErrInvalidObject = errors.New("netobj: invalid object")
	// ErrKeyChanged is a change of a key field of an object whose kind
	// cannot be replaced (interfaces, addresses).
	ErrKeyChanged = errors.New("netobj: key field changed")
	// ErrCreateOnly is a change of a field that can only be given when the
	// object is created (an interface's type, link, vlan_id or peer).
	ErrCreateOnly = errors.New("netobj: field can only be set at creation")
	// ErrPartial is what a driver wraps in the error of a call that changed
	// the system before it failed (a link added, then not set up). Commit
	// undoes a failed call only when its error says so: a failed call that
	// changed nothing has nothing to undo, and undoing it anyway deletes
	// whatever else has its key.
	ErrPartial = errors.New("netobj: the call was done in part")
	// ErrNotApplied is an apply whose effect the read-back did not show
	// within the bounded number of rounds.
	ErrNotApplied = errors.New("netobj: could not apply the changes")
)

// Driver applies network objects to one system: a Linux network namespace
// through netlink (package netlinkdriver) or a map in memory
// (MemoryDriver). Fields passed to and returned by a Driver are normalised
// (Object.Normalize). A Driver must be safe for concurrent use.
type Driver interface {
	// List returns every object of kind k on the system, normalised, with
	// at least the fields the kind's spec names that the system knows.
	List(ctx context.Context, k Kind) ([]Fields, error)
	// Add creates the object; ErrExists if it exists, ErrUnsupported if
	// the system cannot create such an object.
	Add(ctx context.Context, k Kind, f Fields) error
	// Set changes the fields named in changed of the existing object with
	// f's key to their values in f (f is the complete desired object);
	// ErrNotExist if there is no such object.
	Set(ctx context.Context, k Kind, f Fields, changed []string) error
	// Delete removes the object whose key fields are key; ErrNotExist if
	// there is none.
	Delete(ctx context.Context, k Kind, key Fields) error
}
