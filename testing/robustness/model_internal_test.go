package robustness

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"gotest.tools/v3/assert"
)

func op(client int, call, ret int64, in opInput, out opOutput) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret, Input: in, Output: out}
}

// The model accepts what a store may do and refuses what it must not, so
// that a passing check means something.
func TestBankModel(t *testing.T) {
	initial := bankModel.Init().(bankState)
	moved := initial
	moved[0], moved[1] = initial[0]-30, initial[1]+30
	transfer := opInput{kind: opTransfer, from: 0, to: 1, amount: 30}
	inc := opInput{kind: opIncrement}
	read := opInput{kind: opRead}

	cases := []struct {
		name string
		ops  []porcupine.Operation
		want bool
	}{
		{"read after transfer sees it", []porcupine.Operation{
			op(0, 0, 10, transfer, opOutput{applied: true}),
			op(1, 20, 30, read, opOutput{state: moved}),
		}, true},
		{"stale read after transfer", []porcupine.Operation{
			op(0, 0, 10, transfer, opOutput{applied: true}),
			op(1, 20, 30, read, opOutput{state: initial}),
		}, false},
		{"concurrent read may see either", []porcupine.Operation{
			op(0, 0, 10, transfer, opOutput{applied: true}),
			op(1, 5, 30, read, opOutput{state: initial}),
		}, true},
		{"two increments return the same value", []porcupine.Operation{
			op(0, 0, 10, inc, opOutput{counter: 1}),
			op(1, 20, 30, inc, opOutput{counter: 1}),
		}, false},
		{"unknown increment counts once", []porcupine.Operation{
			op(0, 0, 1<<62, inc, opOutput{unknown: true}),
			op(1, 20, 30, inc, opOutput{counter: 2}),
		}, true},
		{"transfer refused with enough money", []porcupine.Operation{
			op(0, 0, 10, transfer, opOutput{applied: false}),
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, porcupine.CheckOperations(bankModel, tc.ops), tc.want)
		})
	}
}
