package netobj

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemoryDriver is a Driver over maps in memory, for tests and demos. It
// counts its calls (Calls), can fail chosen calls (FailOn) and can be
// changed behind a controller's back (Remove, Put), as drift would.
// It is safe for concurrent use.
type MemoryDriver struct {
	mu          sync.Mutex
	objs        map[Kind]map[string]Fields
	calls       []Call
	fail        func(c Call) error
	unsupported map[string]bool
}

// Call is one mutating call a MemoryDriver received.
type Call struct {
	Method string // "add", "set" or "del"
	Kind   Kind
	Key    string   // the object's KeyString
	Fields []string // for "set": the changed fields
}

// NewMemoryDriver returns an empty MemoryDriver that supports every kind
// except the interface types named in unsupported (a kernel without them).
func NewMemoryDriver(unsupported ...string) *MemoryDriver {
	d := &MemoryDriver{objs: map[Kind]map[string]Fields{}, unsupported: map[string]bool{}}
	for _, t := range unsupported {
		d.unsupported[t] = true
	}
	return d
}

// FailOn makes every later mutating call consult f first: a non-nil error
// is returned instead of doing the call. nil removes the hook.
func (d *MemoryDriver) FailOn(f func(c Call) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail = f
}

// Calls returns the mutating calls received so far, in order.
func (d *MemoryDriver) Calls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// ResetCalls forgets the calls received so far.
func (d *MemoryDriver) ResetCalls() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = nil
}

// Put stores o as if the system had it, without counting a call.
func (d *MemoryDriver) Put(o Object) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.kind(o.Kind)[o.KeyString()] = o.Fields.Clone()
}

// Remove removes o from the system without counting a call, as drift
// would; it reports whether it was there.
func (d *MemoryDriver) Remove(o Object) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.kind(o.Kind)
	_, ok := m[o.KeyString()]
	delete(m, o.KeyString())
	return ok
}

func (d *MemoryDriver) kind(k Kind) map[string]Fields {
	m := d.objs[k]
	if m == nil {
		m = map[string]Fields{}
		d.objs[k] = m
	}
	return m
}

func (d *MemoryDriver) call(c Call) error {
	d.calls = append(d.calls, c)
	if d.fail != nil {
		return d.fail(c)
	}
	return nil
}

// List implements Driver.
func (d *MemoryDriver) List(ctx context.Context, k Kind) ([]Fields, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.kind(k)
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	out := make([]Fields, 0, len(keys))
	for _, key := range keys {
		out = append(out, m[key].Clone())
	}
	return out, nil
}

// Add implements Driver.
func (d *MemoryDriver) Add(ctx context.Context, k Kind, f Fields) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	key := keyString(k, f)
	if err := d.call(Call{Method: "add", Kind: k, Key: key}); err != nil {
		return err
	}
	if k == KindInterface && d.unsupported[f[FieldType]] {
		return fmt.Errorf("add %s %q: kernel does not support link type %s: %w", k, key, f[FieldType], ErrUnsupported)
	}
	m := d.kind(k)
	if _, ok := m[key]; ok {
		return fmt.Errorf("add %s %q: %w", k, key, ErrExists)
	}
	if err := d.checkRefs(k, f); err != nil {
		return err
	}
	m[key] = f.Clone()
	return nil
}

// checkRefs fails as the kernel would when an object names an interface
// that does not exist.
func (d *MemoryDriver) checkRefs(k Kind, f Fields) error {
	ifaces := d.kind(KindInterface)
	for _, n := range []string{FieldIface, FieldMaster, FieldLink} {
		if k == KindInterface && n == FieldIface {
			continue
		}
		if name := f[n]; name != "" {
			if _, ok := ifaces[keyString(KindInterface, Fields{FieldName: name})]; !ok {
				return fmt.Errorf("%s %q: %s %q: %w", k, keyString(k, f), n, name, ErrNotExist)
			}
		}
	}
	return nil
}

// Set implements Driver.
func (d *MemoryDriver) Set(ctx context.Context, k Kind, f Fields, changed []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	key := keyString(k, f)
	if err := d.call(Call{Method: "set", Kind: k, Key: key, Fields: slices.Clone(changed)}); err != nil {
		return err
	}
	cur, ok := d.kind(k)[key]
	if !ok {
		return fmt.Errorf("set %s %q: %w", k, key, ErrNotExist)
	}
	if err := d.checkRefs(k, f); err != nil {
		return err
	}
	for _, n := range changed {
		if v, ok := f[n]; ok && v != "" {
			cur[n] = v
		} else {
			delete(cur, n)
		}
	}
	return nil
}

// Delete implements Driver. Deleting an interface deletes the addresses
// and routes on it, as the kernel does.
func (d *MemoryDriver) Delete(ctx context.Context, k Kind, key Fields) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ks := keyString(k, key)
	if err := d.call(Call{Method: "del", Kind: k, Key: ks}); err != nil {
		return err
	}
	m := d.kind(k)
	if _, ok := m[ks]; !ok {
		return fmt.Errorf("delete %s %q: %w", k, ks, ErrNotExist)
	}
	delete(m, ks)
	if k == KindInterface {
		for _, dk := range []Kind{KindAddress, KindRoute} {
			for ok, f := range d.kind(dk) {
				if f[FieldIface] == key[FieldName] {
					delete(d.kind(dk), ok)
				}
			}
		}
	}
	return nil
}
