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
// Arms are written with only the keys they override. Encode does not
// validate e.
func (e *Experiment) Encode(w io.Writer) error {
	var b bytes.Buffer
	encodeTable(&b, "", reflect.ValueOf(e).Elem())
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("encoding experiment %q: %w", e.Name, err)
	}
	return nil
}

// Hash returns the hex SHA-256 of the encoding of e: experiments with the
// same values (less Source) have the same hash, and a change to any value
// changes it.
func (e *Experiment) Hash() string {
	var b bytes.Buffer
	encodeTable(&b, "", reflect.ValueOf(e).Elem())
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:])
}

// encodeTable writes the keys of struct v, inside the table path: first its
// values, then its tables, then its arrays of tables. Nil pointers and
// tables with nothing in them are left out.
func encodeTable(b *bytes.Buffer, path string, v reflect.Value) {
	t := v.Type()
	var tables, arrays []reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		name := tagName(f)
		if name == "" || !f.IsExported() {
			continue
		}
		fv := v.FieldByIndex(f.Index)
		switch {
		case fv.Kind() == reflect.Struct:
			tables = append(tables, f)
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
			arrays = append(arrays, f)
		case fv.Kind() == reflect.Pointer && fv.IsNil():
		default:
			b.WriteString(joinKey("", name))
			b.WriteString(" = ")
			encodeValue(b, reflect.Indirect(fv))
			b.WriteString("\n")
		}
	}
	for _, f := range tables {
		fv := v.FieldByIndex(f.Index)
		if isEmpty(fv) {
			continue
		}
		key := joinKey(path, tagName(f))
		header(b, "["+key+"]")
		encodeTable(b, key, fv)
	}
	for _, f := range arrays {
		fv := v.FieldByIndex(f.Index)
		key := joinKey(path, tagName(f))
		for i := range fv.Len() {
			header(b, "[["+key+"]]")
			encodeTable(b, key, fv.Index(i))
		}
	}
}

func header(b *bytes.Buffer, h string) {
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString(h)
	b.WriteString("\n")
}

// isEmpty reports whether the struct v would encode to nothing: all its
// fields are nil pointers or such structs.
func isEmpty(v reflect.Value) bool {
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

func encodeValue(b *bytes.Buffer, v reflect.Value) {
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
