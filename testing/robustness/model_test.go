package robustness

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// The keys of the workload: accounts of a bank, and a counter.
const (
	accounts       = 5
	initialBalance = 100
	counterSlot    = accounts // the counter's slot in a bankState
)

// bankState is the model's state: the balances of the accounts, then the
// counter.
type bankState [accounts + 1]int

// opKind is what an operation does.
type opKind int

const (
	opTransfer  opKind = iota // move amount from one account to another, if it has enough
	opIncrement               // add one to the counter
	opRead                    // read every account and the counter in one transaction
)

// opInput is an operation's input.
type opInput struct {
	kind     opKind
	from, to int
	amount   int
}

// opOutput is an operation's result. unknown marks a write whose commit
// failed but was applied (its op key is in the store): its return is
// unknown, and so are the values it would have returned.
type opOutput struct {
	applied bool      // transfer: moved the money (false: not enough)
	counter int       // increment: the counter's new value
	state   bankState // read: what was read
	unknown bool
}

// bankModel is the sequential specification of the workload's
// transactions for porcupine.
var bankModel = porcupine.Model{
	Init: func() interface{} {
		var s bankState
		for i := 0; i < accounts; i++ {
			s[i] = initialBalance
		}
		return s
	},
	Step: func(st, in, out interface{}) (bool, interface{}) {
		s, i, o := st.(bankState), in.(opInput), out.(opOutput)
		switch i.kind {
		case opTransfer:
			enough := s[i.from] >= i.amount
			if o.unknown {
				// Only applied unknown writes are in the history.
				o.applied = true
			}
			if o.applied != enough {
				return false, s
			}
			if enough {
				s[i.from] -= i.amount
				s[i.to] += i.amount
			}
			return true, s
		case opIncrement:
			if !o.unknown && o.counter != s[counterSlot]+1 {
				return false, s
			}
			s[counterSlot]++
			return true, s
		case opRead:
			return o.state == s, s
		}
		return false, s
	},
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(opInput), out.(opOutput)
		switch i.kind {
		case opTransfer:
			return fmt.Sprintf("transfer(%d->%d, %d) -> applied=%v unknown=%v", i.from, i.to, i.amount, o.applied, o.unknown)
		case opIncrement:
			return fmt.Sprintf("increment() -> %d unknown=%v", o.counter, o.unknown)
		}
		return fmt.Sprintf("read() -> %v", o.state)
	},
	DescribeState: func(st interface{}) string { return fmt.Sprint(st.(bankState)) },
}
