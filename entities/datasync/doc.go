// Package datasync synchronises entities between two CRUD data sources,
// declaratively and in both directions, as the synchronizer-framework does:
// a list of Mappings pairs an entity type of the left source with one of the
// right source, names the identity keys that match them and the attributes
// copied between them, and says in which directions data flows. Links
// between synchronised entities live in the config store (Links), so that a
// linked pair is tracked across runs and renames.
//
// A Syncer run walks the mappings in order, the left→right pass of a
// mapping before its right→left pass. For every source entity it resolves
// the mapping's keys (plain attributes, deep joins such as
// "parent.parent.name", "__self__", and references translated through
// links), then:
//
//   - a key referring to an entity that is not linked yet defers the entity
//     (OpSkipMissingLink); a later run retries it;
//   - a linked entity has its attributes updated, last write wins on
//     Entity.UpdatedAt over the entity and every entity on its key paths
//     (equal times: the left→right pass wins); a linked entity whose
//     counterpart is gone is not re-created;
//   - an unlinked entity is matched on its keys: no match creates the
//     counterpart (unless the mapping disables creation) and links it, one
//     match links it and updates it, several matches skip it
//     (OpSkipAmbiguous);
//   - a reference linked to several entities of the hinted type fails the
//     run with ErrAmbiguousLink.
//
// With Mapping.DeleteOrphans, a target entity all of whose linked source
// entities are gone is deleted. Every run returns its operations; Converge
// repeats runs until one changes nothing.
//
// Sources: MemorySource (tests, demos) and StoreSource (entities as typed
// values under a config-store prefix). When the target of an operation is a
// StoreSource on the Config of the Links, the entity write and its links
// commit in one transaction. For any other source the entity is written
// first and the link after it: a crash in between leaves an unlinked entity,
// which the next run matches on its keys and links (or, if its keys match
// several entities, reports as ambiguous).
//
// Controller runs a Syncer as a service: one active syncer at a time
// (ownership of an election key bound to the client lease), a full sync on
// start, when a watched source prefix changes, periodically and on demand,
// and the last run's status written to the store.
package datasync
