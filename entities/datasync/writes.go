package datasync

import (
	"errors"
	"fmt"

	"github.com/sdpconfig/sdpconfig/config"
)

// TxnSource is a DataSource whose writes can join a config-store
// transaction. When the target of a creation or deletion is a TxnSource on
// the Config of the Syncer's Links, the entity and its links are written in
// one transaction: a crash never leaves one without the other.
type TxnSource interface {
	DataSource
	// Config returns the Config the source stores its entities in.
	Config() *config.Config
	// CreateTxn is Create inside t.
	CreateTxn(t *config.Txn, e Entity) (Entity, error)
	// DeleteTxn is Delete inside t.
	DeleteTxn(t *config.Txn, r Ref) error
}

func (r *runState) txnSource(sd Side) (TxnSource, bool) {
	ts, ok := r.s.sources[sd].(TxnSource)
	if !ok || ts.Config() != r.s.links.Config() {
		return nil, false
	}
	return ts, true
}

func (r *runState) addLinkToCache(a, b Endpoint) {
	r.links[a] = append(r.links[a], b)
	r.links[b] = append(r.links[b], a)
}

// createLinked creates nd on side sd and links it with from: in one
// transaction for a TxnSource on the links' Config, else entity first.
func (r *runState) createLinked(sd Side, nd Entity, from Endpoint) (Entity, error) {
	src := r.s.sources[sd]
	var created Entity
	if ts, ok := r.txnSource(sd); ok {
		err := ts.Config().Txn(r.ctx, func(t *config.Txn) error {
			var err error
			if created, err = ts.CreateTxn(t, nd); err != nil {
				return err
			}
			return r.putLinkTxn(t, from, r.endpoint(sd, created.Ref()), &created)
		})
		if err != nil {
			return Entity{}, fmt.Errorf("create %s in %s with its link: %w", nd.Type, src.Name(), err)
		}
	} else {
		var err error
		if created, err = src.Create(r.ctx, nd); err != nil {
			return Entity{}, refused{fmt.Errorf("create %s in %s: %w", nd.Type, src.Name(), err)}
		}
		if err := r.s.links.Config().Txn(r.ctx, func(t *config.Txn) error {
			return r.putLinkTxn(t, from, r.endpoint(sd, created.Ref()), &created)
		}); err != nil {
			return Entity{}, fmt.Errorf("link %s with %s: %w", from, created.Ref(), err)
		}
	}
	r.addLinkToCache(from, r.endpoint(sd, created.Ref()))
	return created, nil
}

func (r *runState) putLink(a, b Endpoint) error {
	if err := r.s.links.Config().Txn(r.ctx, func(t *config.Txn) error {
		return r.putLinkTxn(t, a, b, nil)
	}); err != nil {
		return fmt.Errorf("link %s with %s: %w", a, b, err)
	}
	r.addLinkToCache(a, b)
	return nil
}

// deleteLinked deletes the entity ref of side sd and all its links.
func (r *runState) deleteLinked(sd Side, ref Ref) error {
	me := r.endpoint(sd, ref)
	peers := r.links[me]
	delLinks := func(t *config.Txn) error {
		for _, p := range peers {
			if err := r.s.links.DeleteTxn(t, me, p); err != nil {
				return err
			}
		}
		return nil
	}
	if ts, ok := r.txnSource(sd); ok {
		if err := ts.Config().Txn(r.ctx, func(t *config.Txn) error {
			if err := ts.DeleteTxn(t, ref); err != nil {
				return err
			}
			return delLinks(t)
		}); err != nil {
			return fmt.Errorf("delete %s from %s with its links: %w", ref, ts.Name(), err)
		}
	} else {
		if err := r.s.sources[sd].Delete(r.ctx, ref); err != nil {
			return refused{fmt.Errorf("delete %s from %s: %w", ref, r.s.sources[sd].Name(), err)}
		}
		if err := r.s.links.Config().Txn(r.ctx, delLinks); err != nil {
			return fmt.Errorf("unlink %s: %w", me, err)
		}
	}
	delete(r.links, me)
	for _, p := range peers {
		kept := r.links[p][:0]
		for _, x := range r.links[p] {
			if x != me {
				kept = append(kept, x)
			}
		}
		r.links[p] = kept
	}
	return nil
}

// refused marks an error of a source that refused a write (as opposed to
// one of the links' store, which ends the run): the run records it and
// goes on.
type refused struct{ error }

func (e refused) Unwrap() error { return e.error }

// isRefused reports whether err is a source's refusal.
func isRefused(err error) bool {
	var r refused
	return errors.As(err, &r)
}

// putLinkTxn writes the link between a and b in t with the identity of
// each end (created is b's entity when it is not in the run's cache yet)
// and records the identities in the run.
func (r *runState) putLinkTxn(t *config.Txn, a, b Endpoint, created *Entity) error {
	idA, err := r.identityOf(a, nil)
	if err != nil {
		return err
	}
	idB, err := r.identityOf(b, created)
	if err != nil {
		return err
	}
	if err := r.s.links.PutIdentifiedTxn(t, a, b, idA, idB); err != nil {
		return err
	}
	r.ids[linkEnds{a, b}], r.ids[linkEnds{b, a}] = idB, idA
	return nil
}
