package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
)

var importCommand = &command{
	name:  "import",
	args:  "FILE|-",
	short: "write a tree of keys from a JSON or YAML file",
	long: `
Reads a tree of keys from FILE (or stdin for "-") and writes every key,
creating or overwriting it. The file is what export writes: one JSON object
(or YAML mapping) whose keys are paths and whose values are strings, stored
as is, or other JSON values, stored as ska-sdp-config writes JSON (sorted
keys, 2-space indent). The format is taken from the extension (.json, .yaml,
.yml), else from the content, or from --format. As create, import refuses a
value on a typed path (/pb/ID, /eb/ID, ...) that is not a JSON object,
unless --raw; a JSON object held in a string is written byte for byte.

The whole file is read and checked first: a syntax error, a duplicate or an
invalid path is reported with its line, and nothing is written. The keys
are then written in transactions of at most the server's limit of
operations per transaction (128 on a default etcd), each one atomic, a few
in flight at once. If the import stops half-way (an error, or Ctrl-C, which
lets the transactions in flight finish), the transactions committed stay:
it says how many keys it wrote and the first key, in the file's order, not
known to be written, and running the import again completes it. A value
{"$base64": "..."} is written as the bytes it holds (see export). A
progress bar is shown on a terminal for large trees.

Examples:
  sdpcfg export /pb > pb.json && sdpcfg import pb.json
  sdpcfg import --format yaml - < tree.yaml`,
	newRunner: func(g *globalOptions) runner { return &importOptions{g: g} },
}

// importOptions are the options of import.
type importOptions struct {
	g       *globalOptions
	format  string
	raw     bool
	name    string // the file name, "-" for stdin
	entries []entry
}

func (o *importOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "", "the file's format: json or yaml (default: from the extension or content)")
	fs.BoolVar(&o.raw, "raw", false, "write values on typed paths such as /pb/ID even if they are not JSON objects")
}

func (o *importOptions) complete(args []string) error {
	if err := wantArgs("import", args, 1, 1, "FILE (or - for stdin)"); err != nil {
		return err
	}
	o.name = args[0]
	return nil
}

func (o *importOptions) validate() error {
	switch o.format {
	case "", outJSON, outYAML:
	default:
		return usagef("import: --format %q: use json or yaml", o.format)
	}
	var data []byte
	var err error
	if o.name == "-" {
		data, err = io.ReadAll(o.g.env.in)
	} else {
		data, err = os.ReadFile(o.name)
	}
	if err != nil {
		return usagef("import: reading %s: %v", o.name, err)
	}
	format := o.format
	if format == "" {
		format = treeFormat(o.name, data)
	}
	if o.entries, err = readTree(data, format); err != nil {
		return usagef("import %s: %v; nothing was written", o.displayName(), err)
	}
	if !o.raw {
		for _, e := range o.entries {
			if err := checkTyped(e.path, e.value); err != nil {
				return usagef("import %s: line %d: %v, or pass --raw to write it as is; nothing was written", o.displayName(), e.line, err)
			}
		}
	}
	return nil
}

// checkTyped fails for a value on a typed path (/pb/ID, ...) that is not
// a JSON object, as create refuses it; any JSON object passes, as written.
func checkTyped(path, value string) error {
	if !isTyped(path) {
		return nil
	}
	v, err := parseJSON(value)
	if _, ok := v.(map[string]any); err != nil || !ok {
		return fmt.Errorf("value for %s is not a JSON object (/%s values are JSON objects): fix it", path, strings.Split(path, "/")[1])
	}
	return nil
}

func (o *importOptions) displayName() string {
	if o.name == "-" {
		return "stdin"
	}
	return o.name
}

// importItem is the result of an import as the json and yaml outputs show it.
type importItem struct {
	Keys         int   `json:"keys"`
	Transactions int   `json:"transactions"`
	Revision     int64 `json:"revision"`
	// FirstUnwritten is the path of the first entry, in the file's order,
	// not known to be written ("" when all are): every entry before it is.
	FirstUnwritten string `json:"first_unwritten,omitempty"`
}

func (o *importOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	b := c.Backend()
	batch := txn.DefaultMaxTxnOps
	if l, ok := b.(backend.Limiter); ok && l.MaxTxnOps() > 0 {
		batch = l.MaxTxnOps()
	}
	bar := newProgress(o.g.env, len(o.entries))
	res, err := importEntries(ctx, b, o.entries, batch, o.g.timeout, bar.set)
	// A server configured with a lower --max-txn-ops than the client knows
	// refuses the batches: halve them until it takes them. Puts are
	// idempotent, so writing again what was written is harmless.
	for errors.Is(err, backend.ErrTxnTooLarge) && batch > 1 {
		batch /= 2
		res, err = importEntries(ctx, b, o.entries, batch, o.g.timeout, bar.set)
	}
	bar.done()
	if err != nil {
		return fmt.Errorf("import %s: %w (%d of %d keys written, every key before %q among them; run the import again to complete it)",
			o.displayName(), err, res.Keys, len(o.entries), res.FirstUnwritten)
	}
	return o.g.confirm(res, func(w io.Writer) {
		fmt.Fprintf(w, "imported %d key(s) from %s in %d transaction(s), at revision %d\n", res.Keys, o.displayName(), res.Transactions, res.Revision)
	})
}

// importWindow is the number of import commits in flight at once: etcd
// applies concurrent proposals in one raft round, so a small window
// overlaps the round trips of successive batches.
const importWindow = 4

// importEntries writes entries in commits of at most batch puts, up to
// importWindow of them in flight, each bounded by timeout, calling
// progress with the number written so far. On an error, or when ctx ends
// (an interrupt), it sends no new commit but lets those in flight finish,
// so that the counts it returns are exactly those of the commits that took
// effect; it returns the first error (ctx's, for an interrupt).
func importEntries(ctx context.Context, b backend.Backend, entries []entry, batch int, timeout time.Duration, progress func(int)) (importItem, error) {
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	// Commits in flight are not cut by the interrupt: a cut commit may
	// have taken effect all the same (its outcome unknown), and the count
	// would be wrong.
	commitCtx := context.WithoutCancel(ctx)
	starts := make(chan int)
	var (
		mu       sync.Mutex
		res      importItem
		firstErr error
		wg       sync.WaitGroup
		written  = make([]bool, (len(entries)+batch-1)/batch) // by batch
	)
	for w := 0; w < importWindow; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops := make([]backend.Op, 0, batch)
			for start := range starts {
				ops = ops[:0]
				for _, e := range entries[start:min(start+batch, len(entries))] {
					op := backend.Put(e.path, e.value, backend.NoLease)
					// Only a {"$base64": ...} value can hold bytes that
					// are not UTF-8: the bytes another program wrote.
					op.Binary = !utf8.ValidString(e.value)
					ops = append(ops, op)
				}
				cctx, ccancel := context.WithTimeout(commitCtx, timeout)
				r, err := b.Commit(cctx, backend.Txn{Then: ops})
				ccancel()
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
				} else {
					written[start/batch] = true
					res.Keys += len(ops)
					res.Transactions++
					res.Revision = max(res.Revision, r.Revision)
					progress(res.Keys)
				}
				mu.Unlock()
			}
		}()
	}
send:
	for start := 0; start < len(entries); start += batch {
		select {
		case starts <- start:
		case <-stop.Done():
			break send
		}
	}
	close(starts)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	res.FirstUnwritten = ""
	for i, ok := range written {
		if !ok {
			res.FirstUnwritten = entries[i*batch].path
			break
		}
	}
	return res, firstErr
}
