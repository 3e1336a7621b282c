package config_test

import (
	"errors"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
)

type checked struct {
	N int `json:"n"`
}

func (c checked) Validate() error {
	if c.N < 0 {
		return errors.New("n must not be negative")
	}
	return nil
}

func TestKindCheck(t *testing.T) {
	k := config.MustKind[checked]("/chk")
	ok, err := k.Check("/other/x", `{"n": -1}`)
	assert.Assert(t, !ok)
	assert.NilError(t, err)
	ok, err = k.Check("/chk/x", `{"n": 1}`)
	assert.Assert(t, ok)
	assert.NilError(t, err)
	_, err = k.Check("/chk/x", `{"n": -1}`)
	assert.ErrorContains(t, err, "/chk/x")
	assert.ErrorContains(t, err, "n must not be negative")
	_, err = k.Check("/chk/x", `{"n": "one"}`)
	assert.Assert(t, errors.Is(err, config.ErrDecode), "%v", err)
	ok, _ = k.Check("/chk/x/state", `{}`)
	assert.Assert(t, !ok, "a sub-key is not the kind's")
}
