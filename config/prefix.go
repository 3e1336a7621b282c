package config

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// withPrefix returns a view of b in which every path is relative to prefix:
// "/pb/x" is the store's "<prefix>/pb/x" (stored at its full depth, as
// ska-sdp-config's global prefix is), and results carry paths without the
// prefix, as do the errors that are a *backend.PathError. The view
// implements backend.Limiter when b does.
func withPrefix(b backend.Backend, prefix string) backend.Backend {
	p := &prefixed{b: b, prefix: prefix, depth: backend.Depth(prefix)}
	if l, ok := b.(backend.Limiter); ok {
		return &prefixedLimiter{prefixed: p, l: l}
	}
	return p
}

type prefixed struct {
	b      backend.Backend
	prefix string // a valid path
	depth  int    // backend.Depth(prefix)
}

type prefixedLimiter struct {
	*prefixed
	l backend.Limiter
}

// MaxTxnOps returns the limit of the backend under the view.
func (p *prefixedLimiter) MaxTxnOps() int { return p.l.MaxTxnOps() }

func (p *prefixed) full(path string) string { return p.prefix + path }

func (p *prefixed) strip(path string) string { return strings.TrimPrefix(path, p.prefix) }

// stripErr returns err with the prefix removed from its path if it is a
// *backend.PathError naming a path under the prefix (a copy: the original
// is left alone).
func (p *prefixed) stripErr(err error) error {
	pe, ok := err.(*backend.PathError)
	if !ok || !strings.HasPrefix(pe.Path, p.prefix+"/") {
		return err
	}
	return &backend.PathError{Op: pe.Op, Path: p.strip(pe.Path), Err: pe.Err}
}

func (p *prefixed) mapRange(r backend.Range) backend.Range {
	r.Path = p.full(r.Path)
	if r.Prefix && r.Depth != 0 {
		r.Depth += p.depth
	}
	return r
}

func (p *prefixed) Get(ctx context.Context, path string, rev int64) (backend.KeyValue, int64, error) {
	if err := backend.ValidatePath(path); err != nil {
		return backend.KeyValue{}, 0, err
	}
	kv, r, err := p.b.Get(ctx, p.full(path), rev)
	if kv.Path != "" {
		kv.Path = p.strip(kv.Path)
	}
	return kv, r, p.stripErr(err)
}

func (p *prefixed) List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error) {
	if err := backend.ValidatePrefix(prefix); err != nil {
		return backend.ListResult{}, err
	}
	if opts.After != "" {
		opts.After = p.full(opts.After)
	}
	res, err := p.b.List(ctx, p.full(prefix), opts)
	for i := range res.KVs {
		res.KVs[i].Path = p.strip(res.KVs[i].Path)
	}
	return res, p.stripErr(err)
}

func (p *prefixed) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	out := backend.Txn{
		If:   make([]backend.Compare, len(t.If)),
		Then: make([]backend.Op, len(t.Then)),
		Else: make([]backend.Op, len(t.Else)),
	}
	for i, c := range t.If {
		if err := c.Range.Validate(); err != nil {
			return backend.TxnResult{}, err
		}
		c.Range = p.mapRange(c.Range)
		out.If[i] = c
	}
	for _, ops := range []struct{ in, out []backend.Op }{{t.Then, out.Then}, {t.Else, out.Else}} {
		for i, op := range ops.in {
			if err := op.Range.Validate(); err != nil {
				return backend.TxnResult{}, err
			}
			op.Range = p.mapRange(op.Range)
			ops.out[i] = op
		}
	}
	res, err := p.b.Commit(ctx, out)
	return res, p.stripErr(err)
}

func (p *prefixed) Create(ctx context.Context, path, value string, lease backend.LeaseID) (int64, error) {
	if err := backend.ValidatePath(path); err != nil {
		return 0, err
	}
	rev, err := p.b.Create(ctx, p.full(path), value, lease)
	return rev, p.stripErr(err)
}

func (p *prefixed) Update(ctx context.Context, path, value string) (int64, error) {
	if err := backend.ValidatePath(path); err != nil {
		return 0, err
	}
	rev, err := p.b.Update(ctx, p.full(path), value)
	return rev, p.stripErr(err)
}

func (p *prefixed) Delete(ctx context.Context, path string, opts backend.DeleteOptions) (backend.DeleteResult, error) {
	check := backend.ValidatePath
	if opts.Prefix {
		check = backend.ValidatePrefix
	}
	if err := check(path); err != nil {
		return backend.DeleteResult{}, err
	}
	res, err := p.b.Delete(ctx, p.full(path), opts)
	return res, p.stripErr(err)
}

func (p *prefixed) Lease(ctx context.Context, ttl time.Duration) (backend.Lease, error) {
	return p.b.Lease(ctx, ttl)
}

func (p *prefixed) Watch(ctx context.Context, ranges []backend.Range, fromRev int64) (backend.WatchStream, error) {
	mapped := make([]backend.Range, len(ranges))
	for i, r := range ranges {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		mapped[i] = p.mapRange(r)
	}
	in, err := p.b.Watch(ctx, mapped, fromRev)
	if err != nil {
		return nil, p.stripErr(err)
	}
	s := &prefixedStream{
		in:       in,
		out:      make(chan backend.WatchResponse),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	go s.run(p)
	return s, nil
}

func (p *prefixed) Revision(ctx context.Context) (int64, error) { return p.b.Revision(ctx) }

func (p *prefixed) Compact(ctx context.Context, rev int64) error { return p.b.Compact(ctx, rev) }

func (p *prefixed) Close() error { return p.b.Close() }

// prefixedStream relays a watch stream, stripping the prefix from paths.
type prefixedStream struct {
	in       backend.WatchStream
	out      chan backend.WatchResponse
	done     chan struct{} // closed by Close
	finished chan struct{} // closed when run returns
	once     sync.Once
}

func (s *prefixedStream) run(p *prefixed) {
	defer close(s.finished)
	defer close(s.out)
	for resp := range s.in.Responses() {
		for i := range resp.Events {
			ev := &resp.Events[i]
			ev.KV.Path = p.strip(ev.KV.Path)
			if ev.Prev != nil {
				prev := *ev.Prev
				prev.Path = p.strip(prev.Path)
				ev.Prev = &prev
			}
		}
		select {
		case s.out <- resp:
		case <-s.done:
			return
		}
	}
}

func (s *prefixedStream) Responses() <-chan backend.WatchResponse { return s.out }

func (s *prefixedStream) RequestProgress(ctx context.Context) error {
	return s.in.RequestProgress(ctx)
}

// Close closes the underlying stream and waits for the relay to stop.
func (s *prefixedStream) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.in.Close()
	})
	<-s.finished
	return err
}
