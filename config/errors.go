package config

import "errors"

// Sentinel errors of package config. They are returned wrapped, naming the
// key or setting concerned; test for them with errors.Is. Errors of the
// store (backend.ErrNotFound, backend.ErrCollision, ...) pass through
// wrapped as well.
var (
	// ErrInvalidEntity is returned, before anything is written, when a
	// value's Validate method rejects it (or it is a nil pointer). The
	// error names the key and wraps Validate's error.
	ErrInvalidEntity = errors.New("config: invalid entity")

	// ErrDecode is returned when a stored value cannot be decoded into the
	// entity type. The error names the key and wraps the JSON error; no
	// value is returned with it.
	ErrDecode = errors.New("config: cannot decode value")

	// ErrInvalidSetting is returned by ResolveSettings and Open for a
	// setting with a bad value. The error names the setting and where its
	// value came from, and never contains a password.
	ErrInvalidSetting = errors.New("config: invalid setting")

	// ErrNotOwner is returned by ReleaseOwnership when the entity is owned
	// through another lease than this Config's client lease.
	ErrNotOwner = errors.New("config: not the owner")
)
