package configs

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// decoded is an experiment fresh from its file, with what is needed to place
// later problems in that file.
type decoded struct {
	path  string
	lines *lineIndex
	sets  map[string]bool // keys given as -set overrides
	exp   Experiment
}

// decode decodes data strictly into an experiment that starts from
// Default. It checks, in order, the TOML syntax, then every key's name and
// value type, and reports all problems of the first stage that fails.
func decode(path string, data []byte) (*decoded, error) {
	d := &decoded{path: path, lines: indexLines(data), sets: make(map[string]bool)}

	// Decoding into a map first catches syntax errors and gives the raw
	// values, so that unknown keys and wrong types can all be reported,
	// in file order and with their lines.
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, d.tomlError(data, err)
	}
	var errs []*Error
	d.checkTable("", raw, experimentType, &errs)
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, joinErrors(errs)
	}

	d.exp = Default()
	md, err := toml.Decode(string(data), &d.exp)
	if err != nil {
		return nil, d.tomlError(data, err)
	}
	// checkTable has already rejected unknown keys; this guards against it
	// and the toml package ever disagreeing.
	for _, k := range md.Undecoded() {
		key := ""
		for _, seg := range k {
			key = joinKey(key, seg)
		}
		errs = append(errs, &Error{File: path, Line: d.lines.lineUnindexed(key), Key: key, Msg: "unknown key"})
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	d.exp.Source = path
	return d, nil
}

// tomlError converts an error from the toml package.
func (d *decoded) tomlError(data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: d.path, Msg: err.Error()}
	}
	// The toml package counts a newline that ends a bad line as the start
	// of the next one; count from the offset instead, which is past a
	// byte-order mark.
	line := pe.Position.Line
	start := pe.Position.Start
	if bytes.HasPrefix(data, []byte(utf8BOM)) {
		start += len(utf8BOM)
	}
	if start >= 0 && start <= len(data) {
		line = 1 + bytes.Count(data[:start], []byte("\n"))
	}
	return &Error{File: d.path, Line: line, Key: pe.LastKey, Msg: "invalid TOML: " + pe.Message}
}

// at returns the error for a problem with key, placed on the command line if
// the key came from a -set override, on its line if it is in the file, and
// in the file without a line otherwise.
func (d *decoded) at(key, msg string) *Error {
	base := stripIndex(key)
	if d.sets[base] {
		return &Error{File: d.path, Key: key, Set: true, Msg: msg}
	}
	return &Error{File: d.path, Line: d.lines.line(base), Key: key, Msg: msg}
}

// locate converts validation problems into errors.
func (d *decoded) locate(ps []problem) []*Error {
	var errs []*Error
	for _, p := range ps {
		errs = append(errs, d.at(p.key, p.msg))
	}
	return errs
}

// checkTable checks the keys and value types of the TOML table raw, found
// at key path, against the struct type t.
func (d *decoded) checkTable(path string, raw map[string]any, t reflect.Type, errs *[]*Error) {
	bad := func(key, msg string) {
		*errs = append(*errs, &Error{File: d.path, Line: d.lines.lineOrParent(key), Key: key, Msg: msg})
	}
	for _, name := range sortedKeys(raw) {
		key := joinKey(path, name)
		v := raw[name]
		f, ok := fieldByName(t, name)
		if !ok {
			bad(key, unknownKey(t, name))
			continue
		}
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct:
			m, ok := v.(map[string]any)
			if !ok {
				bad(key, "want table, got "+describe(v))
				continue
			}
			d.checkTable(key, m, ft, errs)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			tables, ok := tableArray(v)
			if !ok {
				bad(key, fmt.Sprintf("want array of tables ([[%s]]), got %s", name, describe(v)))
				continue
			}
			for i, m := range tables {
				if m == nil {
					bad(indexKey(key, i), "want table, got "+describe(v.([]any)[i]))
					continue
				}
				d.checkTable(indexKey(key, i), m, ft.Elem(), errs)
			}
		default:
			if _, msg := convert(v, ft); msg != "" {
				bad(key, msg)
			}
		}
	}
}

// tableArray returns the tables of an array of tables, with nil for any
// element that is not a table.
func tableArray(v any) ([]map[string]any, bool) {
	switch v := v.(type) {
	case []map[string]any:
		return v, true
	case []any:
		out := make([]map[string]any, len(v))
		for i, x := range v {
			out[i], _ = x.(map[string]any)
		}
		return out, true
	}
	return nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var (
	experimentType = reflect.TypeFor[Experiment]()
	armType        = reflect.TypeFor[Arm]()
)

// fieldByName returns the field of struct type t whose toml tag is name.
// Unlike the toml package, it does not fall back to a case-insensitive
// match.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if f.IsExported() && tagName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// keyNames returns the keys of struct type t in declaration order.
func keyNames(t reflect.Type) []string {
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		if n := tagName(f); f.IsExported() && n != "" {
			names = append(names, n)
		}
	}
	return names
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// unknownKey explains why name is not a key of struct type t.
func unknownKey(t reflect.Type, name string) string {
	if t == armType {
		if _, ok := fieldByName(experimentType, name); ok {
			return "cannot be set per arm (an arm may override only estimator, loss, noise and optimizer keys)"
		}
	}
	best, bestDist := "", math.MaxInt
	lower := strings.ToLower(name)
	for _, k := range keyNames(t) {
		dist := editDistance(lower, k)
		if (dist <= max(1, len(name)/3) || commonPrefix(lower, k) >= 3) && dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	return "unknown key"
}

// editDistance returns the optimal string alignment distance between a and
// b: the number of insertions, deletions, substitutions and transpositions
// of adjacent bytes that turn one into the other.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// maxExactInt is the largest integer every smaller one of which a float64
// holds exactly.
const maxExactInt = 1 << 53

// convert converts the raw TOML value v (as decoded into an any by the toml
// package) to Go type t, one of the leaf types used in Experiment. On
// failure it returns a message saying what was wanted.
func convert(v any, t reflect.Type) (reflect.Value, string) {
	if t.Kind() == reflect.Pointer {
		x, msg := convert(v, t.Elem())
		if msg != "" {
			return reflect.Value{}, msg
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(x)
		return p, ""
	}
	switch t.Kind() {
	case reflect.String:
		if s, ok := v.(string); ok {
			return reflect.ValueOf(s).Convert(t), ""
		}
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			return reflect.ValueOf(b).Convert(t), ""
		}
	case reflect.Int:
		if n, ok := v.(int64); ok {
			if int64(int(n)) != n {
				return reflect.Value{}, fmt.Sprintf("integer %d out of range", n)
			}
			return reflect.ValueOf(int(n)).Convert(t), ""
		}
	case reflect.Uint64:
		if n, ok := v.(int64); ok {
			if n < 0 {
				return reflect.Value{}, fmt.Sprintf("must be >= 0, got %d", n)
			}
			return reflect.ValueOf(uint64(n)).Convert(t), ""
		}
	case reflect.Float64:
		switch n := v.(type) {
		case float64:
			return reflect.ValueOf(n).Convert(t), ""
		case int64:
			if n < -maxExactInt || n > maxExactInt {
				return reflect.Value{}, fmt.Sprintf("integer %d is too large to be exact as a float; write it as a float", n)
			}
			return reflect.ValueOf(float64(n)).Convert(t), ""
		}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Int {
			break
		}
		list, ok := v.([]any)
		if !ok {
			break
		}
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, x := range list {
			n, ok := x.(int64)
			if !ok {
				return reflect.Value{}, fmt.Sprintf("want %s, got %s at index %d", typeName(t), describe(x), i)
			}
			if int64(int(n)) != n {
				return reflect.Value{}, fmt.Sprintf("integer %d out of range at index %d", n, i)
			}
			out.Index(i).SetInt(n)
		}
		return out, ""
	}
	return reflect.Value{}, fmt.Sprintf("want %s, got %s", typeName(t), describe(v))
}

// typeName names the TOML type that Go type t is decoded from.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Uint64:
		return "integer"
	case reflect.Float64:
		return "float"
	case reflect.Struct:
		return "table"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "array of tables"
		}
		return "array of " + typeName(t.Elem()) + "s"
	}
	return t.String()
}

// describe names the type and, for a scalar, the value of a raw TOML value.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("string %q", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return "float " + formatFloat(v)
	case bool:
		return fmt.Sprintf("boolean %t", v)
	case time.Time:
		return "datetime"
	case []map[string]any:
		return "array of tables"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

// formatFloat formats f as it would be written in TOML, less the ".0" that
// marks an integral float.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return fmt.Sprint(f)
}
