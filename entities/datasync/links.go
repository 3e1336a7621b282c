package datasync

import (
	"context"
	"fmt"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// Endpoint is one end of a link: an entity of a named source.
type Endpoint struct {
	Source string `json:"source"`
	Ref
}

// String returns "source:Type/id".
func (e Endpoint) String() string { return e.Source + ":" + e.Ref.String() }

// Links stores the links between synchronised entities in the config store,
// in both directions: a link between a and b is the two keys
// <prefix>/<a>/<b> and <prefix>/<b>/<a> (each endpoint one escaped
// segment, "source:type:id"), with empty values, written and deleted in one
// transaction.
type Links struct {
	c      *config.Config
	prefix string
}

// NewLinks returns the links stored under prefix (a valid path such as
// "/datasync/demo/links") of c.
func NewLinks(c *config.Config, prefix string) (*Links, error) {
	if err := backend.ValidatePath(prefix); err != nil {
		return nil, fmt.Errorf("datasync: links prefix: %w", err)
	}
	return &Links{c: c, prefix: prefix}, nil
}

// Config returns the Config the links are stored in.
func (l *Links) Config() *config.Config { return l.c }

func escPart(s string) string {
	return strings.ReplaceAll(backend.EscapeSegment(s), ":", "%3A")
}

func encodeEndpoint(e Endpoint) string {
	return escPart(e.Source) + ":" + escPart(e.Type) + ":" + escPart(e.ID)
}

func decodeEndpoint(seg string) (Endpoint, error) {
	parts := strings.Split(seg, ":")
	if len(parts) != 3 {
		return Endpoint{}, fmt.Errorf("datasync: link segment %q is not source:type:id", seg)
	}
	var out [3]string
	for i, p := range parts {
		s, err := backend.UnescapeSegment(p)
		if err != nil {
			return Endpoint{}, fmt.Errorf("datasync: link segment %q: %w", seg, err)
		}
		out[i] = s
	}
	return Endpoint{Source: out[0], Ref: Ref{Type: out[1], ID: out[2]}}, nil
}

func (l *Links) key(a, b Endpoint) string {
	return l.prefix + "/" + encodeEndpoint(a) + "/" + encodeEndpoint(b)
}

// PutTxn writes the link between a and b, both directions, in t, with
// no identities (see PutIdentifiedTxn).
func (l *Links) PutTxn(t *config.Txn, a, b Endpoint) error {
	return l.PutIdentifiedTxn(t, a, b, "", "")
}

// PutIdentifiedTxn writes the link between a and b, both directions, in
// t, recording what identifies each end (its key values): the key
// <a>/<b> holds b's identity and <b>/<a> holds a's, so that an entity
// whose id a source reuses for another is not taken for the linked one.
func (l *Links) PutIdentifiedTxn(t *config.Txn, a, b Endpoint, idA, idB string) error {
	if err := t.Put(l.key(a, b), idB); err != nil {
		return err
	}
	return t.Put(l.key(b, a), idA)
}

// DeleteTxn removes the link between a and b, both directions, in t.
func (l *Links) DeleteTxn(t *config.Txn, a, b Endpoint) error {
	if err := t.Delete(l.key(a, b), txn.DeleteOptions{}); err != nil {
		return err
	}
	return t.Delete(l.key(b, a), txn.DeleteOptions{})
}

// All returns every link, as a map from each endpoint to the endpoints it
// is linked with (both directions, as stored), read at one snapshot.
func (l *Links) All(ctx context.Context) (map[Endpoint][]Endpoint, error) {
	out, _, err := l.all(ctx)
	return out, err
}

// linkEnds is a link seen from one end: from, and the far end to.
type linkEnds struct{ from, to Endpoint }

// all returns every link, and the identity recorded for the far end of
// each (empty when none was).
func (l *Links) all(ctx context.Context) (map[Endpoint][]Endpoint, map[linkEnds]string, error) {
	var out map[Endpoint][]Endpoint
	var ids map[linkEnds]string
	err := l.c.Txn(ctx, func(t *config.Txn) error {
		out, ids = map[Endpoint][]Endpoint{}, map[linkEnds]string{}
		kvs, err := t.ListValues(l.prefix+"/", txn.ListOptions{Recurse: 1, Untracked: true})
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			rest := strings.TrimPrefix(kv.Path, l.prefix+"/")
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				continue
			}
			a, err := decodeEndpoint(rest[:i])
			if err != nil {
				return backend.WrapPath("decode link", kv.Path, err)
			}
			b, err := decodeEndpoint(rest[i+1:])
			if err != nil {
				return backend.WrapPath("decode link", kv.Path, err)
			}
			out[a] = append(out[a], b)
			if kv.Value != "" {
				ids[linkEnds{a, b}] = kv.Value
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("datasync: list links under %q: %w", l.prefix, err)
	}
	return out, ids, nil
}

// Linked returns the endpoints linked with e, read from the store.
func (l *Links) Linked(ctx context.Context, e Endpoint) ([]Endpoint, error) {
	var out []Endpoint
	base := l.prefix + "/" + encodeEndpoint(e) + "/"
	err := l.c.Txn(ctx, func(t *config.Txn) error {
		out = nil
		ps, err := t.List(base, txn.ListOptions{Untracked: true})
		if err != nil {
			return err
		}
		for _, p := range ps {
			b, err := decodeEndpoint(strings.TrimPrefix(p, base))
			if err != nil {
				return backend.WrapPath("decode link", p, err)
			}
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("datasync: links of %s: %w", e, err)
	}
	return out, nil
}
