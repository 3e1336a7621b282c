package netobj

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Change is one object of a commit: the object desired (nil to remove it)
// and the object as the previous commit applied it (nil if none), whose
// key tells which system object a changed key replaces or which one a
// removal deletes.
type Change struct {
	ID      string
	Desired *Object
	Applied *Object
}

// Transitions a commit reports for each change (Result.Transition).
const (
	TransitionClean      = "clean"       // system state already as desired: no call
	TransitionAdd        = "add"         // state invalid: the object was added
	TransitionSet        = "set"         // state system: the changed fields were set
	TransitionRemove     = "remove"      // state remove: deleted by its key fields
	TransitionReplace    = "replace"     // key changed: new one added, old one deleted
	TransitionAbsent     = "absent"      // removal of an object not on the system: no call
	TransitionFailed     = "failed"      // this change failed the commit
	TransitionRolledBack = "rolled back" // applied, then undone by the rollback
	TransitionSkipped    = "skipped"     // not reached before the commit failed
)

// Result is what a commit did with one change.
type Result struct {
	ID         string
	Transition string
	// Object is the object as applied (normalised), nil after a removal
	// or when the change failed.
	Object *Object
	// Err is the change's own error (for TransitionFailed).
	Err error
}

// CommitError is the error of a failed commit: the change that failed,
// why, and what went wrong while rolling back (nil if the rollback went
// through).
type CommitError struct {
	ID       string
	Kind     Kind
	Err      error
	Rollback error
}

// Error implements error.
func (e *CommitError) Error() string {
	s := fmt.Sprintf("netobj: commit failed at %s %q: %v", e.Kind, e.ID, e.Err)
	if e.Rollback != nil {
		s += fmt.Sprintf(" (rollback: %v)", e.Rollback)
	}
	return s
}

// Unwrap returns the cause and the rollback error.
func (e *CommitError) Unwrap() []error { return []error{e.Err, e.Rollback} }

// DefaultRounds is the number of apply-and-read-back rounds of a commit.
const DefaultRounds = 3

// CommitOptions tune a commit. The zero value is valid.
type CommitOptions struct {
	// Rounds bounds how many times an object is applied and read back
	// before the commit gives up with ErrNotApplied; 0 means DefaultRounds.
	Rounds int
}

// step is one driver call of a commit.
type step struct {
	change  int // index in changes
	method  string
	kind    Kind
	obj     Fields   // add/set: the desired object; del: the key
	before  Fields   // the snapshot of the object before the commit, nil if absent
	fields  []string // set: changed fields
	phase   int      // ordering: removals first, by descending rank; then the rest
	order   int      // tie-breaker: the order steps were made
	done    bool     // the call went through (or was tolerated)
	journal bool     // rollback must undo it
}

// Commit applies changes to d as one unit, following pyroute2 NDB's state
// machine: an object absent from the system (invalid) is added, one
// present (system) gets only its changed fields set, a removed one is
// deleted by its key fields, one whose key changed is replaced (routes:
// the new one added, then the old one deleted) or refused (ErrKeyChanged).
// A change already in place costs no mutating call and no read-back.
//
// Objects are applied in dependency order: removals first (routes,
// addresses, then interfaces), then interfaces, addresses and routes. Each
// group is read back from the system after its calls; an object not seen
// as desired is applied again, up to opts.Rounds times, and in those later
// rounds an add that finds the object (ErrExists) or a delete that finds
// it gone (ErrNotExist) is tolerated; on the first call it is an error.
//
// Before any call, Commit snapshots the system objects it may touch. When
// a call fails, every call already made is undone in reverse order, back
// to that snapshot, and Commit returns a *CommitError naming the change
// that failed. Results say what happened to each change either way.
func Commit(ctx context.Context, d Driver, changes []Change, opts CommitOptions) ([]Result, error) {
	rounds := cmp.Or(opts.Rounds, DefaultRounds)
	results := make([]Result, len(changes))
	fail := func(i int, k Kind, err error) ([]Result, error) {
		for j := range results {
			if results[j].Transition == "" {
				results[j] = Result{ID: changes[j].ID, Transition: TransitionSkipped}
			}
		}
		results[i] = Result{ID: changes[i].ID, Transition: TransitionFailed, Err: err}
		return results, &CommitError{ID: changes[i].ID, Kind: k, Err: err}
	}

	// Normalise and check everything before any call.
	desired := make([]*Object, len(changes))
	applied := make([]*Object, len(changes))
	kinds := map[Kind]bool{}
	for i, c := range changes {
		results[i].ID = c.ID
		for _, p := range []struct {
			in  *Object
			out **Object
		}{{c.Desired, &desired[i]}, {c.Applied, &applied[i]}} {
			if p.in == nil {
				continue
			}
			n, err := p.in.Normalize()
			if err != nil {
				return fail(i, p.in.Kind, err)
			}
			*p.out = &n
			kinds[n.Kind] = true
		}
		if desired[i] != nil && applied[i] != nil && desired[i].Kind != applied[i].Kind {
			return fail(i, desired[i].Kind, fmt.Errorf("%w: kind changed from %s to %s", ErrKeyChanged, applied[i].Kind, desired[i].Kind))
		}
		if desired[i] != nil && applied[i] != nil && desired[i].KeyString() != applied[i].KeyString() && !Replaceable(desired[i].Kind) {
			return fail(i, desired[i].Kind, fmt.Errorf("%w: %s %q: key %s would become %s; remove it and add a new one", ErrKeyChanged, desired[i].Kind, c.ID, applied[i].KeyString(), desired[i].KeyString()))
		}
	}

	// Two desired objects must not name the same system object.
	owner := map[string]int{}
	ip6 := map[string]int{} // interface and IP of IPv6 addresses
	for i, des := range desired {
		if des == nil {
			continue
		}
		k := string(des.Kind) + " " + des.KeyString()
		if j, dup := owner[k]; dup {
			return fail(i, des.Kind, fmt.Errorf("%w: %s %q is the same system object as %q", ErrInvalidObject, des.Kind, changes[i].ID, changes[j].ID))
		}
		owner[k] = i
		if des.Kind == KindAddress {
			// The kernel knows an IPv6 address by its IP alone.
			if p, err := netip.ParsePrefix(des.Fields[FieldCIDR]); err == nil && p.Addr().Is6() {
				k := des.Fields[FieldIface] + " " + p.Addr().String()
				if j, dup := ip6[k]; dup {
					return fail(i, des.Kind, fmt.Errorf("%w: field cidr: address %q has the IP of %q, with another prefix length; the kernel keeps one", ErrInvalidObject, changes[i].ID, changes[j].ID))
				}
				ip6[k] = i
			}
		}
	}

	// An interface removed must not be named by a desired object (a port's
	// master, a macvlan's link, an address's or a route's interface): the
	// kernel would take those with it. Refused, naming them.
	for i, app := range applied {
		if desired[i] != nil || app == nil || app.Kind != KindInterface {
			continue
		}
		name := app.Fields[FieldName]
		var users []string
		for j, des := range desired {
			if des == nil {
				continue
			}
			for _, f := range []string{FieldMaster, FieldLink, FieldIface} {
				if des.Fields[f] == name && !(des.Kind == KindInterface && des.Fields[FieldName] == name) {
					users = append(users, fmt.Sprintf("%s %q (%s)", des.Kind, changes[j].ID, f))
				}
			}
		}
		if len(users) > 0 {
			slices.Sort(users)
			return fail(i, app.Kind, fmt.Errorf("%w: interface %q cannot be removed while desired objects name it: %s; remove them too, or change them", ErrInvalidObject, name, strings.Join(users, ", ")))
		}
	}

	// Snapshot the system: one List per kind involved, and per kind whose
	// objects the kernel drops on its own when an involved kind changes
	// (the addresses and routes of a link deleted or set down, the routes
	// through an address removed), which the rollback must restore too.
	if kinds[KindInterface] {
		kinds[KindAddress] = true
	}
	if kinds[KindAddress] {
		kinds[KindRoute] = true
	}
	snap := map[Kind]map[string]Fields{}
	for _, k := range Kinds {
		if !kinds[k] {
			continue
		}
		list, err := d.List(ctx, k)
		if err != nil {
			return results, fmt.Errorf("netobj: snapshot of %ss: %w", k, err)
		}
		m := make(map[string]Fields, len(list))
		for _, f := range list {
			m[keyString(k, f)] = f
		}
		snap[k] = m
	}

	// The state machine: one or two steps per change.
	var steps []*step
	var clean []*step // changes already in place
	add := func(s *step) {
		s.order = len(steps)
		steps = append(steps, s)
	}
	for i := range changes {
		des, app := desired[i], applied[i]
		if des == nil {
			if app == nil {
				results[i].Transition = TransitionAbsent
				continue
			}
			before, ok := snap[app.Kind][app.KeyString()]
			if !ok {
				results[i].Transition = TransitionAbsent
				continue
			}
			// Deleted as the snapshot shows it, every field given, so that
			// the driver deletes that object and no other of the same key.
			add(&step{change: i, method: "del", kind: app.Kind, obj: before, before: before, phase: -app.rank()})
			results[i].Transition = TransitionRemove
			continue
		}
		phase := 10 + des.rank()
		before, present := snap[des.Kind][des.KeyString()]
		replacing := app != nil && app.KeyString() != des.KeyString()
		switch {
		case !present:
			add(&step{change: i, method: "add", kind: des.Kind, obj: des.Fields, phase: phase})
			results[i].Transition = TransitionAdd
		default:
			changed, err := diff(des, before, app)
			if err != nil {
				return fail(i, des.Kind, err)
			}
			if len(changed) == 0 {
				results[i].Transition = TransitionClean
				// No call, but read back at the end like the rest.
				clean = append(clean, &step{change: i, method: "set", kind: des.Kind, obj: des.Fields, before: before, phase: phase})
			} else {
				add(&step{change: i, method: "set", kind: des.Kind, obj: des.Fields, before: before, fields: changed, phase: phase})
				results[i].Transition = TransitionSet
			}
		}
		if replacing {
			results[i].Transition = TransitionReplace
			if old, ok := snap[app.Kind][app.KeyString()]; ok {
				add(&step{change: i, method: "del", kind: app.Kind, obj: old, before: old, phase: phase})
			}
		}
		o := des.Clone()
		results[i].Object = &o
	}
	slices.SortStableFunc(steps, func(a, b *step) int {
		return cmp.Or(cmp.Compare(a.phase, b.phase), cmp.Compare(a.order, b.order))
	})

	// Apply group by group, reading each group back.
	var journal []*step
	peers := map[string]bool{} // the peers of the veths this commit added
	for start := 0; start < len(steps); {
		end := start
		for end < len(steps) && steps[end].phase == steps[start].phase {
			end++
		}
		pending := steps[start:end]
		for round := 0; len(pending) > 0; round++ {
			if round == rounds {
				s := pending[0]
				err := fmt.Errorf("%w: %s %q not seen as desired after %d rounds", ErrNotApplied, s.kind, keyString(s.kind, s.obj), rounds)
				return rollback(ctx, d, snap, journal, changes, results, s, err)
			}
			for _, s := range pending {
				err := call(ctx, d, s)
				if err != nil && errors.Is(err, ErrExists) && s.method == "add" && peers[s.obj[FieldName]] {
					// The other end of a veth this commit added, which
					// came with it: set its own fields instead.
					s.method, s.fields = "set", settableGiven(s.kind, s.obj)
					err = nil
					if len(s.fields) > 0 {
						err = call(ctx, d, s)
					}
				}
				if err == nil && s.method == "add" && s.kind == KindInterface && s.obj[FieldType] == TypeVeth {
					peers[s.obj[FieldPeer]] = true
				}
				switch {
				case err == nil:
				case round > 0 && tolerated(s.method, err):
				default:
					if errors.Is(err, ErrPartial) {
						// The call did part of its work: undo it too.
						journal = appendOnce(journal, s)
					}
					return rollback(ctx, d, snap, journal, changes, results, s, err)
				}
				journal = appendOnce(journal, s)
			}
			var err error
			pending, err = check(ctx, d, pending)
			if err != nil {
				return rollback(ctx, d, snap, journal, changes, results, pending[0], err)
			}
		}
		start = end
	}
	// Read back every object of the commit once more, after all groups:
	// a later group can change what an earlier one set (a port of MTU 1400
	// enslaved to a bridge lowers the bridge's MTU), and a commit that
	// succeeds leaves every object as desired.
	every := append(slices.Clip(steps), clean...)
	if len(every) == 0 || every[0].phase == every[len(every)-1].phase && len(clean) == 0 {
		// One group, read back after its last call: nothing came after.
		return results, nil
	}
	for round := 0; ; round++ {
		pending, err := check(ctx, d, every)
		if err != nil {
			return rollback(ctx, d, snap, journal, changes, results, pending[0], err)
		}
		if len(pending) == 0 {
			return results, nil
		}
		if round == rounds {
			s := pending[0]
			err := fmt.Errorf("%w: %s %q not as desired after the whole commit, %d rounds", ErrNotApplied, s.kind, keyString(s.kind, s.obj), rounds)
			return rollback(ctx, d, snap, journal, changes, results, s, err)
		}
		now := map[Kind]map[string]Fields{}
		for _, s := range pending {
			if now[s.kind] == nil {
				if now[s.kind], err = listByKey(ctx, d, s.kind); err != nil {
					return rollback(ctx, d, snap, journal, changes, results, s, err)
				}
			}
			if err := converge(ctx, d, s, now[s.kind][keyString(s.kind, s.obj)]); err != nil {
				return rollback(ctx, d, snap, journal, changes, results, s, err)
			}
			journal = appendOnce(journal, s)
			if results[s.change].Transition == TransitionClean {
				results[s.change].Transition = TransitionSet
			}
		}
	}
}

// converge applies step s again after the whole commit found its object
// not as desired: a removal is deleted again, a missing object added, and
// an object present has the fields that differ set (recorded in s, so that
// the rollback sets them back too).
func converge(ctx context.Context, d Driver, s *step, cur Fields) error {
	var err error
	switch {
	case s.method == "del":
		err = d.Delete(ctx, s.kind, s.obj)
		if errors.Is(err, ErrNotExist) {
			err = nil
		}
	case cur == nil:
		err = d.Add(ctx, s.kind, s.obj)
		if errors.Is(err, ErrExists) {
			err = nil
		}
	default:
		var changed []string
		for _, n := range settableGiven(s.kind, s.obj) {
			if cur[n] != s.obj[n] {
				changed = append(changed, n)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		err = d.Set(ctx, s.kind, s.obj, changed)
		for _, n := range changed {
			if !slices.Contains(s.fields, n) {
				s.fields = append(s.fields, n)
			}
		}
	}
	return err
}

func appendOnce(journal []*step, s *step) []*step {
	if !s.journal {
		s.journal = true
		journal = append(journal, s)
	}
	return journal
}

// tolerated reports whether err is an errno fallback of the seed: an add
// that finds the object exists, a delete that finds it gone.
func tolerated(method string, err error) bool {
	switch method {
	case "add":
		return errors.Is(err, ErrExists)
	case "del":
		return errors.Is(err, ErrNotExist)
	}
	return false
}

func call(ctx context.Context, d Driver, s *step) error {
	switch s.method {
	case "add":
		return d.Add(ctx, s.kind, s.obj)
	case "set":
		return d.Set(ctx, s.kind, s.obj, s.fields)
	default:
		return d.Delete(ctx, s.kind, s.obj)
	}
}

// check reads the kinds of steps back from the system and returns the
// steps whose object is not (or, for removals, still) there as desired.
func check(ctx context.Context, d Driver, steps []*step) ([]*step, error) {
	seen := map[Kind]map[string]Fields{}
	var pending []*step
	for _, s := range steps {
		m, ok := seen[s.kind]
		if !ok {
			list, err := d.List(ctx, s.kind)
			if err != nil {
				return []*step{s}, fmt.Errorf("netobj: read back %ss: %w", s.kind, err)
			}
			m = make(map[string]Fields, len(list))
			for _, f := range list {
				m[keyString(s.kind, f)] = f
			}
			seen[s.kind] = m
		}
		cur, present := m[keyString(s.kind, s.obj)]
		if s.method == "del" {
			if present {
				pending = append(pending, s)
			}
			continue
		}
		if !present || !matches(s.kind, s.obj, cur) {
			pending = append(pending, s)
		}
	}
	return pending, nil
}

// matches reports whether the system object cur has every desired field
// of want; fields that only count at creation are compared only when the
// system reports them.
func matches(k Kind, want, cur Fields) bool {
	for n, v := range want {
		c, ok := cur[n]
		if !ok && (slices.Contains(specs[k].createOnly, n) || v == "") {
			continue
		}
		if c != v {
			return false
		}
	}
	return true
}

// diff returns the fields of des that differ on the system (sys), plus a
// master the previous apply set and des no longer names; a changed field
// that only counts at creation is ErrCreateOnly.
func diff(des *Object, sys Fields, app *Object) ([]string, error) {
	var changed []string
	for _, n := range des.Fields.Names() {
		v := des.Fields[n]
		c, ok := sys[n]
		if c == v || (!ok && (slices.Contains(specs[des.Kind].createOnly, n) || v == "")) {
			continue
		}
		if slices.Contains(specs[des.Kind].createOnly, n) {
			return nil, fmt.Errorf("%w: %s %q: field %s is %q on the system, %q desired; remove it and add a new one", ErrCreateOnly, des.Kind, des.DefaultID(), n, c, v)
		}
		changed = append(changed, n)
	}
	if app != nil && des.Kind == KindInterface {
		if _, ok := des.Fields[FieldMaster]; !ok && app.Fields[FieldMaster] != "" && sys[FieldMaster] != "" {
			changed = append(changed, FieldMaster)
		}
	}
	return changed, nil
}

// rollback undoes the journal in reverse order, back to the snapshot, and
// returns the commit's error for the failed step s.
func rollback(ctx context.Context, d Driver, snap map[Kind]map[string]Fields, journal []*step, changes []Change, results []Result, s *step, cause error) ([]Result, error) {
	var errs []error
	for i := len(journal) - 1; i >= 0; i-- {
		j := journal[i]
		var err error
		switch {
		case j.before == nil:
			// The object added, every field given (see the removals).
			if err = d.Delete(ctx, j.kind, j.obj); errors.Is(err, ErrNotExist) {
				err = nil
			}
		case j.method == "del":
			if err = d.Add(ctx, j.kind, j.before); errors.Is(err, ErrExists) {
				err = nil
			}
		default:
			var back []string
			for _, n := range j.fields {
				if j.before[n] != j.obj[n] {
					back = append(back, n)
				}
			}
			if len(back) > 0 {
				err = d.Set(ctx, j.kind, j.before, back)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("undo %s of %s %q: %w", j.method, j.kind, keyString(j.kind, j.obj), err))
		}
		results[j.change].Transition = TransitionRolledBack
		results[j.change].Object = nil
	}
	restoreErrs := restore(ctx, d, snap)
	if err := verify(ctx, d, snap, journal); err == nil {
		// The system is the snapshot again: an undo step that failed (a
		// port set back onto a bridge not yet re-created) was repaired.
		errs = nil
	} else {
		errs = append(append(errs, restoreErrs...), err)
	}
	for i := range results {
		switch results[i].Transition {
		case TransitionRolledBack, TransitionClean, TransitionAbsent:
		default:
			results[i].Transition = TransitionSkipped
			results[i].Object = nil
		}
	}
	results[s.change] = Result{ID: changes[s.change].ID, Transition: TransitionFailed, Err: cause}
	return results, &CommitError{ID: changes[s.change].ID, Kind: s.kind, Err: cause, Rollback: errors.Join(errs...)}
}

// restore makes the system the snapshot again after the undo, kind by
// kind in dependency order (interfaces, then addresses, then routes),
// reading each kind after the one before was restored (an address put
// back brings its connected route back with it): it re-creates every
// object of the snapshot the system lacks, parents first, and sets back
// the settable fields that differ. What the kernel dropped on its own
// during the commit (routes through an address removed, or through a link
// set down) comes back this way, and so does a field whose undo failed
// because what it names was not back yet, as NDB's rollback does.
func restore(ctx context.Context, d Driver, snap map[Kind]map[string]Fields) []error {
	var errs []error
	for _, k := range Kinds {
		now, err := listByKey(ctx, d, k)
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %ss: %w", k, err))
			continue
		}
		var keys []string
		for key := range snap[k] {
			keys = append(keys, key)
		}
		// Parents first: a bridge before its ports.
		slices.SortFunc(keys, func(a, b string) int {
			ra, rb := Object{Kind: k, Fields: snap[k][a]}.rank(), Object{Kind: k, Fields: snap[k][b]}.rank()
			return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a, b))
		})
		for _, key := range keys {
			want := snap[k][key]
			cur, ok := now[key]
			if !ok {
				if err := d.Add(ctx, k, want); err != nil && !errors.Is(err, ErrExists) {
					errs = append(errs, fmt.Errorf("restore %s %q: %w", k, key, err))
				}
				continue
			}
			if changed := settableDiff(k, want, cur); len(changed) > 0 {
				if err := d.Set(ctx, k, want, changed); err != nil {
					errs = append(errs, fmt.Errorf("restore %v of %s %q: %w", changed, k, key, err))
				}
			}
		}
	}
	return errs
}

// verify returns an error naming what of the snapshot the system does not
// hold as the snapshot has it, and what the journal added that is still
// there, or nil.
func verify(ctx context.Context, d Driver, snap map[Kind]map[string]Fields, journal []*step) error {
	var bad []string
	for _, k := range Kinds {
		now, err := listByKey(ctx, d, k)
		if err != nil {
			return fmt.Errorf("check the rollback: %w", err)
		}
		for _, j := range journal {
			if j.kind == k && j.before == nil {
				if key := keyString(k, j.obj); now[key] != nil {
					if _, was := snap[k][key]; !was {
						bad = append(bad, fmt.Sprintf("%s %q added by the commit is still there", k, key))
					}
				}
			}
		}
		for key, want := range snap[k] {
			cur, ok := now[key]
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("%s %q is missing", k, key))
			case len(settableDiff(k, want, cur)) > 0:
				bad = append(bad, fmt.Sprintf("%s %q differs in %v", k, key, settableDiff(k, want, cur)))
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fmt.Errorf("the system is not back to its snapshot: %s", strings.Join(bad, "; "))
}

// settableDiff returns the settable fields of kind k whose values differ
// between the snapshot's want and the system's cur.
func settableDiff(k Kind, want, cur Fields) []string {
	var changed []string
	for _, n := range specs[k].fields {
		if slices.Contains(specs[k].createOnly, n) {
			continue
		}
		if want[n] != cur[n] {
			changed = append(changed, n)
		}
	}
	return changed
}

// settableGiven returns the settable fields of kind k that f gives.
func settableGiven(k Kind, f Fields) []string {
	var given []string
	for _, n := range specs[k].fields {
		if _, ok := f[n]; ok && !slices.Contains(specs[k].createOnly, n) {
			given = append(given, n)
		}
	}
	return given
}

// listByKey lists kind k on the system by key.
func listByKey(ctx context.Context, d Driver, k Kind) (map[string]Fields, error) {
	list, err := d.List(ctx, k)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Fields, len(list))
	for _, f := range list {
		m[keyString(k, f)] = f
	}
	return m, nil
}
