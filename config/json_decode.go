package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// unmarshalPy decodes the JSON text s into v as encoding/json does, with
// numbers in an any kept exact as json.Number, and also reads the tokens
// Python's json module writes for floats JSON cannot hold: NaN, Infinity
// and -Infinity, into a float64 or an any (as a float64). Text after the
// value is an error.
func unmarshalPy(s string, v any) error {
	if t, ok := quoteNonFinite(s); ok {
		return jsonv2.Unmarshal([]byte(t), v, nonFiniteOptions)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// Python's tokens for non-finite floats, and the strings quoteNonFinite
// puts in their place (a NUL byte first, so that no JSON text a Python or
// Go writer produced holds them: both escape control characters).
var nonFinite = []struct {
	token, quoted string
	value         float64
}{
	{"-Infinity", `"\u0000-Infinity"`, math.Inf(-1)},
	{"Infinity", `"\u0000Infinity"`, math.Inf(1)},
	{"NaN", `"\u0000NaN"`, math.NaN()},
}

// quoteNonFinite returns s with each NaN, Infinity and -Infinity token
// outside strings replaced by a quoted stand-in, and whether there was any.
func quoteNonFinite(s string) (string, bool) {
	if !strings.Contains(s, "NaN") && !strings.Contains(s, "Infinity") {
		return s, false
	}
	var b strings.Builder
	inString, escaped, found := false, false, false
next:
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			b.WriteByte(c)
			continue
		}
		if c == '"' {
			inString = true
		}
		for _, nf := range nonFinite {
			if strings.HasPrefix(s[i:], nf.token) {
				b.WriteString(nf.quoted)
				i += len(nf.token) - 1
				found = true
				continue next
			}
		}
		b.WriteByte(c)
	}
	return b.String(), found
}

// nonFiniteValue returns the float a quoted stand-in holds.
func nonFiniteValue(quoted []byte) (float64, bool) {
	for _, nf := range nonFinite {
		if string(quoted) == nf.quoted {
			return nf.value, true
		}
	}
	return 0, false
}

// nonFiniteOptions decode as encoding/json does, reading the stand-ins of
// quoteNonFinite as floats and numbers in an any as json.Number.
var nonFiniteOptions = jsonv2.JoinOptions(
	jsonv1.DefaultOptionsV1(),
	jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
		jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, f *float64) error {
			if dec.PeekKind() != '"' {
				return errors.ErrUnsupported
			}
			val, err := dec.ReadValue()
			if err != nil {
				return err
			}
			x, ok := nonFiniteValue(val)
			if !ok {
				return fmt.Errorf("cannot decode the string %s into a float64", val)
			}
			*f = x
			return nil
		}),
		jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *any) error {
			switch dec.PeekKind() {
			case '0':
				val, err := dec.ReadValue()
				if err != nil {
					return err
				}
				*v = json.Number(val)
				return nil
			case '"':
				val, err := dec.ReadValue()
				if err != nil {
					return err
				}
				if x, ok := nonFiniteValue(val); ok {
					*v = x
					return nil
				}
				var s string
				if err := jsonv2.Unmarshal(val, &s); err != nil {
					return err
				}
				*v = s
				return nil
			}
			return errors.ErrUnsupported
		}),
	)),
)

// isNull reports whether s is the JSON text null.
func isNull(s string) bool { return bytes.Equal(bytes.TrimSpace([]byte(s)), []byte("null")) }
