package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// Paths of the workload. The accounts and the counter share one prefix so
// that one Mirror sees them all; every write also records its op id under
// opsPrefix in the same transaction.
const (
	bankPrefix  = "/bank/"
	counterPath = "/bank/counter"
	opsPrefix   = "/ops/"
	opTimeout   = 5 * time.Second
)

func accountPath(i int) string { return fmt.Sprintf("/bank/a%d", i) }

// slotPath is the path of a slot of a bankState.
func slotPath(i int) string {
	if i == counterSlot {
		return counterPath
	}
	return accountPath(i)
}

// record is one operation a client ran.
type record struct {
	op   porcupine.Operation
	opID string // the op id a write records; "" for reads
	// err is the error the operation returned; nil if acknowledged.
	err error
	// rev is the commit revision of an acknowledged write that wrote.
	rev int64
	// wrote lists the slots an acknowledged write wrote.
	wrote []int
}

// history collects the records of every client.
type history struct {
	start time.Time
	acked atomic.Int64 // acknowledged operations, for the fault loop

	mu      sync.Mutex
	records []record
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(r record) {
	if r.err == nil {
		h.acked.Add(1)
	}
	h.mu.Lock()
	h.records = append(h.records, r)
	h.mu.Unlock()
}

// client runs random operations on its Config until stop is set.
type client struct {
	id  int
	cfg *config.Config
	rng *rand.Rand
	h   *history
	seq int
}

func (c *client) run(stop *atomic.Bool) {
	for !stop.Load() {
		c.seq++
		switch n := c.rng.IntN(100); {
		case n < 50:
			from := c.rng.IntN(accounts)
			to := (from + 1 + c.rng.IntN(accounts-1)) % accounts
			c.transfer(from, to, 1+c.rng.IntN(40))
		case n < 85:
			c.increment()
		default:
			c.read()
		}
	}
}

func (c *client) opID() string { return fmt.Sprintf("c%d-%d", c.id, c.seq) }

func atoi(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		panic(fmt.Sprintf("robustness: not a number: %q", v))
	}
	return n
}

func (c *client) transfer(from, to, amount int) {
	id := c.opID()
	in := opInput{kind: opTransfer, from: from, to: to, amount: amount}
	var applied bool
	var st txn.Stats
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	call := c.h.now()
	err := c.cfg.Txn(ctx, func(t *config.Txn) error {
		applied = false
		fv, _, err := t.Get(accountPath(from))
		if err != nil {
			return err
		}
		tv, _, err := t.Get(accountPath(to))
		if err != nil {
			return err
		}
		f, v := atoi(fv), atoi(tv)
		if f < amount {
			return nil
		}
		if err := t.Put(accountPath(from), strconv.Itoa(f-amount)); err != nil {
			return err
		}
		if err := t.Put(accountPath(to), strconv.Itoa(v+amount)); err != nil {
			return err
		}
		applied = true
		return t.Put(opsPrefix+id, "transfer")
	}, txn.WithStats(&st))
	r := record{opID: id, err: err, op: porcupine.Operation{ClientId: c.id, Input: in, Call: call, Return: c.h.now(),
		Output: opOutput{applied: applied}}}
	if err == nil && applied {
		r.rev, r.wrote = st.Revision, []int{from, to}
	}
	c.h.add(r)
}

func (c *client) increment() {
	id := c.opID()
	var next int
	var st txn.Stats
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	call := c.h.now()
	err := c.cfg.Txn(ctx, func(t *config.Txn) error {
		v, _, err := t.Get(counterPath)
		if err != nil {
			return err
		}
		next = atoi(v) + 1
		if err := t.Put(counterPath, strconv.Itoa(next)); err != nil {
			return err
		}
		return t.Put(opsPrefix+id, "increment")
	}, txn.WithStats(&st))
	r := record{opID: id, err: err, op: porcupine.Operation{ClientId: c.id, Input: opInput{kind: opIncrement}, Call: call, Return: c.h.now(),
		Output: opOutput{counter: next}}}
	if err == nil {
		r.rev, r.wrote = st.Revision, []int{counterSlot}
	}
	c.h.add(r)
}

func (c *client) read() {
	var s bankState
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	call := c.h.now()
	err := c.cfg.Txn(ctx, func(t *config.Txn) error {
		var err error
		s, err = readState(t)
		return err
	})
	c.h.add(record{err: err, op: porcupine.Operation{ClientId: c.id, Input: opInput{kind: opRead}, Call: call, Return: c.h.now(),
		Output: opOutput{state: s}}})
}

// readState reads every slot in t.
func readState(t *config.Txn) (bankState, error) {
	var s bankState
	for i := range s {
		v, _, err := t.Get(slotPath(i))
		if err != nil {
			return s, err
		}
		s[i] = atoi(v)
	}
	return s, nil
}

// outcome is what the checks found, for the figures of the report.
type outcome struct {
	ops, acked, failed, indeterminate int
	// resolvedApplied are failed writes whose op key is in the store.
	resolvedApplied int
	// anomalies are failures of a check (0 in a passing run).
	anomalies []string
}

func (o *outcome) anomaly(format string, args ...any) {
	o.anomalies = append(o.anomalies, fmt.Sprintf(format, args...))
}

// resolve builds the history porcupine checks from the records: every
// acknowledged operation; every failed write whose op id is in applied,
// as an operation of unknown outcome that may linearize any time after its
// call; failed writes without their op key and failed reads had no effect
// and are left out. A write that failed with an error other than
// ErrIndeterminate (the SDK's "maybe applied") yet was applied is an
// anomaly.
func resolve(recs []record, applied map[string]bool, o *outcome) []porcupine.Operation {
	var ops []porcupine.Operation
	for _, r := range recs {
		o.ops++
		if r.err == nil {
			o.acked++
			ops = append(ops, r.op)
			continue
		}
		o.failed++
		if errors.Is(r.err, backend.ErrIndeterminate) {
			o.indeterminate++
		}
		if r.opID == "" || !applied[r.opID] {
			continue
		}
		o.resolvedApplied++
		if !errors.Is(r.err, backend.ErrIndeterminate) {
			o.anomaly("op %s failed with %v, which promises it was not applied, but it was", r.opID, r.err)
		}
		op := r.op
		op.Output = opOutput{unknown: true}
		op.Return = int64(^uint64(0) >> 1) // unknown: concurrent with everything after its call
		ops = append(ops, op)
	}
	return ops
}
