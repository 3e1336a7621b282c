package datasync

import (
	"errors"
	"fmt"
)

// ErrAmbiguousLink fails a run when a reference to translate is linked to
// more than one entity of the hinted type.
var ErrAmbiguousLink = errors.New("datasync: reference linked to more than one entity")

// OpKind is the kind of an Operation.
type OpKind string

// The kinds of operations a run reports. The Skip kinds change nothing.
const (
	OpAddition         OpKind = "Addition"
	OpLinking          OpKind = "Linking"
	OpAttributeUpdated OpKind = "AttributeUpdated"
	OpDeletion         OpKind = "Deletion"
	// OpUnlinking removes a link whose entity is gone, or whose entity's
	// id now holds another entity (its key values differ from those
	// linked): From and To are the link's ends; Mapping is -1.
	OpUnlinking        OpKind = "Unlinking"
	OpSkipMissingLink  OpKind = "SkipMissingLink"
	OpSkipAmbiguous    OpKind = "SkipAmbiguous"
	OpSkipNoCreate     OpKind = "SkipNoCreate"
	OpSkipCannotCreate OpKind = "SkipCannotCreate"
	// OpConflict reports a target attribute that several linked source
	// entities set to different values: To got the winner's (From's)
	// value, Reason names the others. It changes nothing by itself.
	OpConflict OpKind = "Conflict"
	// OpCouldNotCreate, OpCouldNotUpdate and OpCouldNotDelete report a
	// write the target source refused (Reason holds its error): the run
	// goes on with the other entities, then fails with ErrWritesFailed
	// listing each, and the next run tries again.
	OpCouldNotCreate OpKind = "CouldNotCreate"
	OpCouldNotUpdate OpKind = "CouldNotUpdate"
	OpCouldNotDelete OpKind = "CouldNotDelete"
)

// ErrWritesFailed fails a run in which a source refused some writes; the
// error lists each, with its entity and cause, and the run's operations
// hold one OpCouldNot* each.
var ErrWritesFailed = errors.New("datasync: writes failed")

// Operation is one thing a run did or declined to do.
type Operation struct {
	Kind OpKind `json:"kind"`
	// Mapping is the index of the mapping in the Syncer's list.
	Mapping int `json:"mapping"`
	// Direction is LeftToRight or RightToLeft.
	Direction Mode `json:"direction"`
	// From is the source entity of the pass (for a deletion: the deleted
	// entity's side is the target, To).
	From Ref `json:"from"`
	// To is the target entity (empty for skips).
	To Ref `json:"to"`
	// Attribute, Old and New describe an OpAttributeUpdated.
	Attribute string `json:"attribute,omitempty"`
	Old       any    `json:"old,omitempty"`
	New       any    `json:"new,omitempty"`
	// Reason explains a skip.
	Reason string `json:"reason,omitempty"`
}

// Changed reports whether the operation changed a source or the links.
func (o Operation) Changed() bool {
	switch o.Kind {
	case OpAddition, OpLinking, OpAttributeUpdated, OpDeletion:
		return true
	}
	return false
}

// String returns the operation as the seed's log shows it, e.g.
// "Addition(NIC/3)" or "Linking(VlanServiceProvider/1, CloudServiceProvider/2)".
func (o Operation) String() string {
	switch o.Kind {
	case OpAddition, OpDeletion:
		return fmt.Sprintf("%s(%s)", o.Kind, o.To)
	case OpLinking:
		return fmt.Sprintf("%s(%s, %s)", o.Kind, o.From, o.To)
	case OpAttributeUpdated:
		return fmt.Sprintf("%s(%s.%s: %v -> %v from %s)", o.Kind, o.To, o.Attribute, o.Old, o.New, o.From)
	}
	return fmt.Sprintf("%s(%s -> %s: %s)", o.Kind, o.From.Type, o.To.Type, o.Reason)
}

// Changes counts the operations that changed something.
func Changes(ops []Operation) int {
	n := 0
	for _, o := range ops {
		if o.Changed() {
			n++
		}
	}
	return n
}
