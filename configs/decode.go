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
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/glr-project/glr/estimators"
)

// decoded is an experiment fresh from its file and overrides, with what is
// needed to place later problems in that file.
type decoded struct {
	path  string
	lines *lineIndex
	sets  map[string]bool // keys given as -set overrides
	exp   Experiment
	errs  []*Error
}

// setValue is the text of a -set override, put in the raw TOML document in
// place of the file's value and parsed once the type it must have is known.
type setValue struct{ text string }

// decode decodes data strictly into an experiment that starts from
// Default, with the overrides sets applied. It checks, in order, the TOML
// syntax, the keys of the overrides, then every key's name and value type,
// and reports all problems of the first stage that fails.
//
// The document is first decoded into a map, which catches syntax errors
// and gives the raw values; the overrides are written into that map; then
// the map is decoded into the experiment, so that the file's values and
// the overrides' are checked alike and all problems are reported, with
// their lines. In particular the [estimator] keys are decoded for the kind
// in force after the overrides.
func decode(path string, data []byte, sets []string) (*decoded, error) {
	d := &decoded{path: path, lines: indexLines(data), sets: make(map[string]bool)}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, d.tomlError(data, err)
	}
	if raw == nil {
		raw = map[string]any{}
	}
	if errs := d.applySets(raw, sets); len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	d.exp = Default()
	d.decodeTable("", raw, reflect.ValueOf(&d.exp).Elem())
	if len(d.errs) > 0 {
		// File order, then the overrides.
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			if a.Set != b.Set {
				if a.Set {
					return 1
				}
				return -1
			}
			return cmp.Compare(a.Line, b.Line)
		})
		return nil, joinErrors(d.errs)
	}
	d.exp.Source = path
	return d, nil
}

// tomlError converts an error from the toml package. The toml package's
// LastKey is the last key it finished (or the table it was in), not the
// key being read when the error struck, so the key is taken from the line
// index instead: the key whose definition spans the error's position.
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
	if start < 0 || start > len(data) {
		return &Error{File: d.path, Line: line, Msg: "invalid TOML: " + pe.Message}
	}
	line = 1 + bytes.Count(data[:start], []byte("\n"))
	key := d.lines.keyAt(start)
	if key == "" {
		if msg, ok := unclosedHeader(data, start); ok {
			return &Error{File: d.path, Line: line, Msg: "invalid TOML: " + msg}
		}
	}
	return &Error{File: d.path, Line: line, Key: key, Msg: "invalid TOML: " + pe.Message}
}

// unclosedHeader describes the table header on the line holding offset
// off, if that line is a header that lacks its closing bracket.
func unclosedHeader(data []byte, off int) (string, bool) {
	lo := bytes.LastIndexByte(data[:off], '\n') + 1
	hi := len(data)
	if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
		hi = off + i
	}
	text := strings.TrimSpace(strings.TrimPrefix(string(data[lo:hi]), utf8BOM))
	if !strings.HasPrefix(text, "[") {
		return "", false
	}
	if before, _, ok := strings.Cut(text, "#"); ok {
		text = strings.TrimSpace(before)
	}
	if strings.Contains(text, "]") {
		return "", false
	}
	closing := "]"
	if strings.HasPrefix(text, "[[") {
		closing = "]]"
	}
	return fmt.Sprintf("unclosed table header %s (want %s%s)", text, text, closing), true
}

// bad records a problem with the key's name or value type, placed on the
// command line if the key came from a -set override and on the key's line
// (or its table's) otherwise.
func (d *decoded) bad(key, msg string) {
	if d.fromSet(key) {
		d.errs = append(d.errs, &Error{File: d.path, Key: key, Set: true, Msg: msg})
		return
	}
	d.errs = append(d.errs, &Error{File: d.path, Line: d.lines.lineOrParent(key), Key: key, Msg: msg})
}

// fromSet reports whether key, or a key enclosing it, was given as a -set
// override.
func (d *decoded) fromSet(key string) bool {
	for k := key; k != ""; k = parentKey(k) {
		if d.sets[k] {
			return true
		}
	}
	return false
}

// at returns the error for a validation problem with key, placed on the
// command line if the key came from a -set override, on its line if it is
// in the file, and in the file without a line otherwise.
func (d *decoded) at(key, msg string) *Error {
	if d.fromSet(key) {
		return &Error{File: d.path, Key: key, Set: true, Msg: msg}
	}
	return &Error{File: d.path, Line: d.lines.line(stripIndex(key)), Key: key, Msg: msg}
}

// locate converts validation problems into errors.
func (d *decoded) locate(ps []problem) []*Error {
	var errs []*Error
	for _, p := range ps {
		errs = append(errs, d.at(p.key, p.msg))
	}
	return errs
}

// decodeTable decodes the TOML table raw, found at key path, into the
// struct v, key by key, leaving the fields of absent keys as they are.
func (d *decoded) decodeTable(path string, raw map[string]any, v reflect.Value) {
	t := v.Type()
	// Fields in declaration order, so that [estimator] is decoded before
	// the arms that may inherit its kind.
	for _, f := range reflect.VisibleFields(t) {
		name := tagName(f)
		if x, ok := raw[name]; ok && name != "" && f.IsExported() {
			d.decodeValue(joinKey(path, name), x, v.FieldByIndex(f.Index))
		}
	}
	for _, name := range sortedKeys(raw) {
		if _, ok := fieldByName(t, name); !ok {
			d.bad(joinKey(path, name), unknownKey(t, name))
		}
	}
}

// decodeValue decodes the raw TOML value x of key into v.
func (d *decoded) decodeValue(key string, x any, v reflect.Value) {
	t := v.Type()
	x, msg := resolveSet(x, t)
	if msg != "" {
		d.bad(key, msg)
		return
	}
	switch {
	case t == estimatorType:
		d.decodeEstimator(key, x, v.Addr().Interface().(*Estimator))
	case t == overrideType:
		d.decodeOverride(key, x, v.Addr().Interface().(*EstimatorOverride))
	case t == convType:
		d.decodeConv(key, x, v)
	case t == armsType:
		tables, ok := tableArray(x)
		if !ok {
			d.bad(key, fmt.Sprintf("want array of tables ([[%s]]), got %s", key, describe(x)))
			return
		}
		arms := make([]Arm, len(tables))
		for i, m := range tables {
			if m == nil {
				d.bad(indexKey(key, i), "want table, got "+describe(x.([]any)[i]))
				continue
			}
			d.decodeTable(indexKey(key, i), m, reflect.ValueOf(&arms[i]).Elem())
		}
		v.Set(reflect.ValueOf(arms))
	case t.Kind() == reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			d.bad(key, "want table, got "+describe(x))
			return
		}
		d.decodeTable(key, m, v)
	default:
		y, msg := convert(x, t)
		if msg != "" {
			d.bad(key, msg)
			return
		}
		v.Set(y)
	}
}

// decodeEstimator decodes the [estimator] table x into e: its kind, then
// the keys of that kind's settings, starting from the kind's defaults.
func (d *decoded) decodeEstimator(key string, x any, e *Estimator) {
	m, ok := x.(map[string]any)
	if !ok {
		d.bad(key, "want table, got "+describe(x))
		return
	}
	if k, ok := m["kind"]; ok {
		name, ok := d.decodeKind(key, k)
		if !ok {
			return
		}
		e.Kind = name
	}
	kind, ok := estimators.Lookup(e.Kind)
	if !ok {
		d.bad(joinKey(key, "kind"), unknownKind(e.Kind))
		return
	}
	e.Settings = kind.NewSettings()
	v, _ := settingsStruct(e.Settings) // Register guarantees a pointer to a struct
	for _, name := range sortedKeys(m) {
		if name == "kind" {
			continue
		}
		f, ok := fieldByName(v.Type(), name)
		if !ok {
			d.bad(joinKey(key, name), notAKey(e.Kind, v.Type(), name))
			continue
		}
		d.decodeValue(joinKey(key, name), m[name], v.FieldByIndex(f.Index))
	}
}

// decodeKind decodes the kind key of the estimator table at key; it
// reports false if the value is not a string.
func (d *decoded) decodeKind(key string, x any) (string, bool) {
	var name string
	n := len(d.errs)
	d.decodeValue(joinKey(key, "kind"), x, reflect.ValueOf(&name).Elem())
	return name, len(d.errs) == n
}

// decodeOverride decodes an arm's [arms.estimator] table x into o,
// checking its keys against the arm's kind: its own, or else the
// experiment's, which is decoded first.
func (d *decoded) decodeOverride(key string, x any, o *EstimatorOverride) {
	m, ok := x.(map[string]any)
	if !ok {
		d.bad(key, "want table, got "+describe(x))
		return
	}
	kind := d.exp.Estimator.Kind
	if k, ok := m["kind"]; ok {
		name, ok := d.decodeKind(key, k)
		if !ok {
			return
		}
		o.Kind, kind = &name, name
		if _, ok := estimators.Lookup(kind); !ok {
			d.bad(joinKey(key, "kind"), unknownKind(kind))
			return
		}
	}
	v, ok := settingsStruct(defaultSettings(kind))
	if !ok {
		return // the experiment's unknown kind is reported on its own key
	}
	for _, name := range sortedKeys(m) {
		if name == "kind" {
			continue
		}
		f, ok := fieldByName(v.Type(), name)
		if !ok {
			d.bad(joinKey(key, name), notAKey(kind, v.Type(), name))
			continue
		}
		n := len(d.errs)
		field := reflect.New(f.Type).Elem()
		if d.decodeValue(joinKey(key, name), m[name], field); len(d.errs) > n {
			continue
		}
		if o.Settings == nil {
			o.Settings = make(map[string]any)
		}
		o.Settings[name] = field.Interface()
	}
}

// decodeConv decodes model.conv, an array of tables, one per layer; the
// keys a table leaves out take their defaults, except filters and kernel,
// which are required. An empty array decodes to nil.
func (d *decoded) decodeConv(key string, x any, v reflect.Value) {
	tables, ok := tableArray(x)
	if !ok {
		d.bad(key, "want array of tables, got "+describe(x))
		return
	}
	if len(tables) == 0 {
		v.SetZero()
		return
	}
	layers := make([]ConvLayer, len(tables))
	for i, m := range tables {
		k := indexKey(key, i)
		if m == nil {
			d.bad(k, "want table, got "+describe(x.([]any)[i]))
			continue
		}
		layers[i] = NewConvLayer(0, 0)
		d.decodeTable(k, m, reflect.ValueOf(&layers[i]).Elem())
		for _, req := range []string{"filters", "kernel"} {
			if _, ok := m[req]; !ok {
				d.bad(joinKey(k, req), "required, must be an integer >= 1")
			}
		}
	}
	v.Set(reflect.ValueOf(layers))
}

// resolveSet returns x, or for the text of an override the TOML value it
// holds, decoded as a value of Go type t is. For a string, text that is not
// a TOML string is taken literally.
func resolveSet(x any, t reflect.Type) (any, string) {
	sv, ok := x.(setValue)
	if !ok {
		return x, ""
	}
	var m map[string]any
	_, err := toml.Decode("v = "+sv.text, &m)
	raw, ok := m["v"]
	ok = ok && err == nil && len(m) == 1
	isString := t.Kind() == reflect.String || t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String
	if _, parsedString := raw.(string); isString && !(ok && parsedString) {
		if !utf8.ValidString(sv.text) {
			return nil, "value is not valid UTF-8"
		}
		return sv.text, ""
	}
	if !ok {
		return nil, fmt.Sprintf("want %s, got %q", typeName(t), sv.text)
	}
	return raw, ""
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

func sortedKeys[V any](m map[string]V) []string {
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
	armsType       = reflect.TypeFor[[]Arm]()
	convType       = reflect.TypeFor[[]ConvLayer]()
	scalesType     = reflect.TypeFor[Scales]()
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
	if best := closest(keyNames(t), name); best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	return "unknown key"
}

// closest returns the key that name most likely misspells, or "".
func closest(keys []string, name string) string {
	best, bestDist := "", math.MaxInt
	lower := strings.ToLower(name)
	for _, k := range keys {
		dist := editDistance(lower, k)
		if (dist <= max(1, len(name)/3) || commonPrefix(lower, k) >= 3) && dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
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
// package) to Go type t, one of the leaf types of Experiment and of
// estimator settings. On failure it returns a message saying what was
// wanted.
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
	if _, isList := v.([]any); t == scalesType && !isList {
		// A single scale for every site.
		f, isNumber, msg := toFloat(v)
		if !isNumber {
			return reflect.Value{}, fmt.Sprintf("want %s, got %s", typeName(t), describe(v))
		} else if msg != "" {
			return reflect.Value{}, msg
		}
		return reflect.ValueOf(Scales{f}), ""
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
		if f, isNumber, msg := toFloat(v); isNumber && msg == "" {
			return reflect.ValueOf(f).Convert(t), ""
		} else if isNumber {
			return reflect.Value{}, msg
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			break
		}
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, x := range list {
			switch t.Elem().Kind() {
			case reflect.Int:
				n, ok := x.(int64)
				if !ok {
					return reflect.Value{}, fmt.Sprintf("want %s, got %s at index %d", typeName(t), describe(x), i)
				}
				if int64(int(n)) != n {
					return reflect.Value{}, fmt.Sprintf("integer %d out of range at index %d", n, i)
				}
				out.Index(i).SetInt(n)
			case reflect.Float64:
				f, isNumber, msg := toFloat(x)
				if !isNumber {
					return reflect.Value{}, fmt.Sprintf("want %s, got %s at index %d", typeName(t), describe(x), i)
				} else if msg != "" {
					return reflect.Value{}, fmt.Sprintf("%s at index %d", msg, i)
				}
				out.Index(i).SetFloat(f)
			case reflect.String:
				str, ok := x.(string)
				if !ok {
					return reflect.Value{}, fmt.Sprintf("want %s, got %s at index %d", typeName(t), describe(x), i)
				}
				out.Index(i).SetString(str)
			default:
				return reflect.Value{}, fmt.Sprintf("unsupported type %v", t)
			}
		}
		return out, ""
	}
	return reflect.Value{}, fmt.Sprintf("want %s, got %s", typeName(t), describe(v))
}

// toFloat converts a raw TOML float, or an integer a float64 holds exactly,
// to a float64. isNumber reports whether v is a float or an integer at all;
// msg says why an integer is not exact.
func toFloat(v any) (f float64, isNumber bool, msg string) {
	switch n := v.(type) {
	case float64:
		return n, true, ""
	case int64:
		if n < -maxExactInt || n > maxExactInt {
			return 0, true, fmt.Sprintf("integer %d is too large to be exact as a float; write it as a float", n)
		}
		return float64(n), true, ""
	}
	return 0, false, ""
}

// typeName names the TOML type that Go type t is decoded from.
func typeName(t reflect.Type) string {
	switch {
	case t == scalesType:
		return "float or array of floats"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() == reflect.Int, t.Kind() == reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float64:
		return "float"
	case t.Kind() == reflect.Struct:
		return "table"
	case t.Kind() == reflect.Slice:
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
