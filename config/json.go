package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// encodeOptions encode as encoding/json does (struct tags, omitempty,
// MarshalJSON and TextMarshaler), but floats by their Go type: see
// marshalFloat.
var encodeOptions = jsonv2.JoinOptions(
	jsonv1.DefaultOptionsV1(),
	jsonv1.ReportErrorsWithLegacySemantics(false), // errors say where

	jsonv2.WithMarshalers(jsonv2.MarshalToFunc(marshalFloat)),
)

// marshalFloat writes a value of float kind as Python writes a float:
// repr(float), so that 1.0 stays 1.0 and -0.0 stays -0.0 (encoding/json
// writes both as integers, which Python reads as ints). A float32 is
// written as the shortest decimal that reads back as it, then as Python
// prints that decimal. NaN and the infinities, which Python writes as
// tokens no JSON reader accepts, are refused. Other values are left to the
// default encoding.
func marshalFloat(enc *jsontext.Encoder, v any) error {
	// v is a pointer to the value (the function is registered for any).
	rv := reflect.ValueOf(v).Elem()
	if n, ok := rv.Interface().(json.Number); ok && rv.Type() == numberType {
		// encoding/json's Number, which the v1 options do not know.
		if n == "" {
			n = "0"
		}
		return enc.WriteValue(jsontext.Value(n))
	}
	if rv.Type().Implements(jsonMarshaler) || reflect.PointerTo(rv.Type()).Implements(jsonMarshaler) {
		return errors.ErrUnsupported // its own MarshalJSON decides
	}
	var f float64
	switch rv.Kind() {
	case reflect.Float64:
		f = rv.Float()
	case reflect.Float32:
		f, _ = strconv.ParseFloat(strconv.FormatFloat(rv.Float(), 'g', -1, 32), 64)
	default:
		return errors.ErrUnsupported
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: %v (Python would write %s, which only Python reads): store null or a string instead", errNonFinite, f, pyNonFinite(f))
	}
	return enc.WriteValue(jsontext.Value(pyFloatRepr(f)))
}

// errNonFinite is the error of marshalFloat for NaN and the infinities.
var errNonFinite = errors.New("not a JSON number")

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	numberType    = reflect.TypeFor[json.Number]()
)

// pyNonFinite returns Python's json text for NaN or an infinity.
func pyNonFinite(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// Marshal returns v as JSON text exactly as ska-sdp-config writes values:
// Python's
//
//	json.dumps(obj, ensure_ascii=False, indent=2, separators=(",", ": "), sort_keys=True)
//
// v is first encoded as encoding/json encodes it (struct tags, omitempty,
// MarshalJSON and TextMarshaler apply as usual), then rewritten in that
// form: object keys sorted at every level (struct fields included),
// two-space indent, ": " after keys, "," at line ends, "{}" and "[]" for
// empty containers, no trailing newline. Strings keep non-ASCII characters
// as UTF-8 (Python's ensure_ascii=False, which ska-sdp-config uses); only
// '"', '\\' and control characters are escaped, as Python escapes them.
//
// Numbers are written by their Go type, as Python writes the same value: a
// float (float64, float32, or a named type of float kind) as Python's
// repr(float) writes it, always with a fraction or an exponent (1.0, 1e-05,
// 1e+16, -0.0), so that Python reads a float back; an integer as an
// integer. A json.Number keeps its text unless Python would print it
// differently once read back (1E+2 as 100.0, -0 as 0). NaN and the
// infinities are refused with an error naming the field: Python would
// write NaN or Infinity, which no other JSON reader accepts (they are read,
// though: see Kind).
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
	raw, err := jsonv2.Marshal(v, encodeOptions)
	if err != nil {
		var se *jsonv2.SemanticError
		if errors.As(err, &se) && se.Err != nil && errors.Is(err, errNonFinite) {
			return "", fmt.Errorf("config: value at %q: %w", cmp.Or(string(se.JSONPointer), "/"), se.Err)
		}
		return "", fmt.Errorf("config: %w", err)
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
