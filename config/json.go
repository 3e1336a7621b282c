package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Marshal returns v as JSON text exactly as ska-sdp-config writes values:
// Python's
//
//	json.dumps(obj, ensure_ascii=False, indent=2, separators=(",", ": "), sort_keys=True)
//
// v is first encoded with encoding/json (struct tags, MarshalJSON and
// TextMarshaler apply as usual), then rewritten in that form: object keys
// sorted at every level (struct fields included), two-space indent, ": "
// after keys, "," at line ends, "{}" and "[]" for empty containers, no
// trailing newline. Strings keep non-ASCII characters as UTF-8 (Python's
// ensure_ascii=False, which ska-sdp-config uses); only '"', '\\' and control
// characters are escaped, as Python escapes them. Numbers keep their
// encoding/json text unless Python would print them differently once read
// back: a number with a fraction or exponent is a Python float and is
// printed as Python's repr prints it (1e-05, 1.0, 1e+16), an integer is
// printed as is (Python ints have no precision limit).
//
// Marshal(v) is a fixed point of Python's load-and-dump: for any v,
// json.dumps(json.loads(Marshal(v)), ...) with the options above returns
// Marshal(v) unchanged.
func Marshal(v any) (string, error) { return marshalPy(v, false) }

// MarshalASCII is Marshal with Python's default ensure_ascii=True: every
// character outside printable ASCII is written as a \uXXXX escape
// (lowercase hex, surrogate pairs above U+FFFF), exactly as
// json.dumps(obj, indent=2, sort_keys=True) writes it. ska-sdp-config
// itself writes UTF-8 (see Marshal); both forms read back identically.
func MarshalASCII(v any) (string, error) { return marshalPy(v, true) }

func marshalPy(v any, ascii bool) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep every digit: no float64 round trip for integers
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(raw) + len(raw)/2)
	if err := writePy(&b, tree, 0, ascii); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writePy writes one decoded JSON value at nesting level depth.
func writePy(b *strings.Builder, v any, depth int, ascii bool) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		s, err := pyNumber(string(v))
		if err != nil {
			return err
		}
		b.WriteString(s)
	case string:
		writePyString(b, v, ascii)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[")
		for i, e := range v {
			if i > 0 {
				b.WriteString(",")
			}
			newline(b, depth+1)
			if err := writePy(b, e, depth+1, ascii); err != nil {
				return err
			}
		}
		newline(b, depth)
		b.WriteString("]")
	case map[string]any:
		if len(v) == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		// Byte order of UTF-8 is code point order, which is how Python
		// sorts str keys.
		slices.Sort(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			newline(b, depth+1)
			writePyString(b, k, ascii)
			b.WriteString(": ")
			if err := writePy(b, v[k], depth+1, ascii); err != nil {
				return err
			}
		}
		newline(b, depth)
		b.WriteString("}")
	default:
		return fmt.Errorf("config: unexpected JSON value of type %T", v)
	}
	return nil
}

func newline(b *strings.Builder, depth int) {
	b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
}

// pyNumber returns the text Python's json module writes for the JSON number
// s after reading it: floats (a fraction or an exponent) in repr form,
// integers unchanged except "-0", which is the int 0.
func pyNumber(s string) (string, error) {
	if !strings.ContainsAny(s, ".eE") {
		if strings.TrimLeft(s, "-0") == "" {
			return "0", nil
		}
		return s, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		// Python would write Infinity, which is not JSON.
		return "", fmt.Errorf("config: number %s is out of the range of a float", s)
	}
	return pyFloatRepr(f), nil
}

// pyFloatRepr formats f as Python's repr(float) does: the shortest digits
// that read back as f, in positional notation when the decimal exponent is
// in [-4, 16) (with ".0" added to whole numbers), otherwise in scientific
// notation with a signed exponent of at least two digits.
func pyFloatRepr(f float64) string {
	sci := strconv.FormatFloat(f, 'e', -1, 64) // "d.ddde±XX"
	i := strings.IndexByte(sci, 'e')
	exp, _ := strconv.Atoi(sci[i+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// writePyString writes s quoted as Python's json module quotes it.
func writePyString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(b, `\u%04x`, r)
			case ascii && r > 0x7e && r <= 0xffff:
				fmt.Fprintf(b, `\u%04x`, r)
			case ascii && r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
