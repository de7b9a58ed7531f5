package configs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Encode writes e as TOML with every key explicit, tables in a fixed order
// and numbers in their shortest exact form, so that [Parse] of the output
// gives back e (less Source) and the output depends only on e's values.
// The [estimator] table holds kind, then the keys of the kind's settings in
// their declaration order. Arms are written with only the keys they
// override. Encode does not validate e.
func (e *Experiment) Encode(w io.Writer) error {
	if _, err := w.Write(e.encode()); err != nil {
		return fmt.Errorf("encoding experiment %q: %w", e.Name, err)
	}
	return nil
}

// Hash returns the hex SHA-256 of the encoding of e: experiments with the
// same values (less Source) have the same hash, and a change to any value
// changes it.
func (e *Experiment) Hash() string {
	sum := sha256.Sum256(e.encode())
	return hex.EncodeToString(sum[:])
}

func (e *Experiment) encode() []byte {
	enc := encoder{kind: e.Estimator.Kind}
	enc.table("", reflect.ValueOf(e).Elem())
	return enc.b.Bytes()
}

// encoder writes an experiment; kind is the experiment's estimator kind,
// which orders the keys of arms that do not set their own.
type encoder struct {
	b    bytes.Buffer
	kind string
}

// table writes the keys of struct v, inside the table path: first its
// values, then its tables, then its arrays of tables. Nil pointers and
// tables with nothing in them are left out.
func (enc *encoder) table(path string, v reflect.Value) {
	switch v.Type() {
	case estimatorType:
		est := v.Interface().(Estimator)
		enc.keyValue("kind", reflect.ValueOf(est.Kind))
		if s, ok := settingsStruct(est.Settings); ok {
			enc.table(path, s)
		}
		return
	case overrideType:
		o := v.Interface().(EstimatorOverride)
		kind := enc.kind
		if o.Kind != nil {
			kind = *o.Kind
			enc.keyValue("kind", reflect.ValueOf(kind))
		}
		for _, k := range settingsKeysInOrder(kind, o.Settings) {
			enc.keyValue(k, reflect.ValueOf(o.Settings[k]))
		}
		return
	}
	var tables, arrays []reflect.StructField
	for _, f := range reflect.VisibleFields(v.Type()) {
		name := tagName(f)
		if name == "" || !f.IsExported() {
			continue
		}
		fv := v.FieldByIndex(f.Index)
		switch {
		case fv.Kind() == reflect.Struct:
			tables = append(tables, f)
		case fv.Type() == armsType:
			arrays = append(arrays, f)
		case fv.Kind() == reflect.Pointer && fv.IsNil():
		default:
			enc.keyValue(name, reflect.Indirect(fv))
		}
	}
	for _, f := range tables {
		fv := v.FieldByIndex(f.Index)
		if isEmpty(fv) {
			continue
		}
		key := joinKey(path, tagName(f))
		enc.header("[" + key + "]")
		enc.table(key, fv)
	}
	for _, f := range arrays {
		fv := v.FieldByIndex(f.Index)
		key := joinKey(path, tagName(f))
		for i := range fv.Len() {
			enc.header("[[" + key + "]]")
			enc.table(key, fv.Index(i))
		}
	}
}

func (enc *encoder) keyValue(name string, v reflect.Value) {
	enc.b.WriteString(joinKey("", name))
	enc.b.WriteString(" = ")
	encodeValue(&enc.b, v)
	enc.b.WriteString("\n")
}

func (enc *encoder) header(h string) {
	if enc.b.Len() > 0 {
		enc.b.WriteString("\n")
	}
	enc.b.WriteString(h)
	enc.b.WriteString("\n")
}

// isEmpty reports whether the struct v would encode to nothing: all its
// fields are nil pointers or such structs.
func isEmpty(v reflect.Value) bool {
	switch v.Type() {
	case estimatorType:
		return false
	case overrideType:
		o := v.Interface().(EstimatorOverride)
		return o.Kind == nil && len(o.Settings) == 0
	}
	for _, f := range reflect.VisibleFields(v.Type()) {
		if tagName(f) == "" || !f.IsExported() {
			continue
		}
		fv := v.FieldByIndex(f.Index)
		switch fv.Kind() {
		case reflect.Pointer:
			if !fv.IsNil() {
				return false
			}
		case reflect.Struct:
			if !isEmpty(fv) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// encodeValue writes v as a TOML value: a table as an inline table, and
// scales of one value as a plain number.
func encodeValue(b *bytes.Buffer, v reflect.Value) {
	if !v.IsValid() {
		// A nil in an arm's settings, which Validate reports; keep the
		// output TOML.
		b.WriteString(`""`)
		return
	}
	if v.Type() == scalesType && v.Len() == 1 {
		v = v.Index(0)
	}
	switch v.Kind() {
	case reflect.String:
		b.WriteString(quote(v.String()))
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float64:
		b.WriteString(tomlFloat(v.Float()))
	case reflect.Slice:
		b.WriteString("[")
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			encodeValue(b, v.Index(i))
		}
		b.WriteString("]")
	case reflect.Struct:
		b.WriteString("{")
		for i, f := range reflect.VisibleFields(v.Type()) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(joinKey("", tagName(f)))
			b.WriteString(" = ")
			encodeValue(b, v.FieldByIndex(f.Index))
		}
		b.WriteString("}")
	default:
		// Not reached for the types in Experiment; keep the output TOML.
		b.WriteString(quote(fmt.Sprint(v.Interface())))
	}
}

// tomlFloat formats f as a TOML float, shortest form that reads back exactly.
func tomlFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return formatFloat(f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
