package configs

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// applySets applies -set overrides to e in order and records their keys.
func (d *decoded) applySets(e *Experiment, sets []string) []*Error {
	var errs []*Error
	for _, s := range sets {
		key, err := applySet(e, s)
		if err != nil {
			err.File = d.path
			errs = append(errs, err)
			continue
		}
		d.sets[key] = true
	}
	return errs
}

// applySet applies one override, KEY=VALUE, and returns the key in the form
// joinKey and indexKey write it.
func applySet(e *Experiment, s string) (string, *Error) {
	k, value, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok {
		return "", &Error{Key: k, Set: true, Msg: "want KEY=VALUE"}
	}
	if k == "" {
		return "", &Error{Set: true, Msg: fmt.Sprintf("missing key in %q (want KEY=VALUE)", s)}
	}
	fail := func(format string, args ...any) (string, *Error) {
		return "", &Error{Key: k, Set: true, Msg: fmt.Sprintf(format, args...)}
	}

	v := reflect.ValueOf(e).Elem()
	key := ""
	segs := strings.Split(k, ".")
	for i, seg := range segs {
		name, index, hasIndex, ok := parseSegment(seg)
		if !ok {
			return fail("malformed key (want dotted.key or arms[N].dotted.key)")
		}
		f, ok := fieldByName(v.Type(), name)
		if !ok {
			return fail("%s", unknownKey(v.Type(), name))
		}
		key = joinKey(key, name)
		v = v.FieldByIndex(f.Index)
		tables := v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct
		switch {
		case hasIndex && !tables:
			return fail("cannot index %s; set the whole value", key)
		case hasIndex && index >= v.Len():
			return fail("no [[%s]] entry %d (the experiment has %d; indices count from 0)", name, index, v.Len())
		case hasIndex:
			v = v.Index(index)
			key = indexKey(key, index)
		case tables:
			return fail("select one entry, as in %s[0]%s", key, strings.TrimPrefix(k, seg))
		}
		if last := i == len(segs)-1; last == (v.Kind() == reflect.Struct) {
			if last {
				return fail("is a table; set one of its keys")
			}
			return fail("%s is not a table", key)
		}
	}

	x, msg := parseValue(strings.TrimSpace(value), v.Type())
	if msg != "" {
		return fail("%s", msg)
	}
	v.Set(x)
	return key, nil
}

// parseSegment splits "name" or "name[N]".
func parseSegment(seg string) (name string, index int, hasIndex, ok bool) {
	name = strings.TrimSpace(seg)
	if i := strings.IndexByte(name, '['); i >= 0 {
		if !strings.HasSuffix(name, "]") {
			return "", 0, false, false
		}
		n, err := strconv.Atoi(name[i+1 : len(name)-1])
		if err != nil || n < 0 {
			return "", 0, false, false
		}
		name, index, hasIndex = name[:i], n, true
	}
	return name, index, hasIndex, name != ""
}

// parseValue parses the text of an override as a TOML value of Go type t.
// For a string, text that is not a TOML string is taken literally.
func parseValue(text string, t reflect.Type) (reflect.Value, string) {
	var m map[string]any
	_, err := toml.Decode("v = "+text, &m)
	raw, ok := m["v"]
	ok = ok && err == nil && len(m) == 1
	isString := t.Kind() == reflect.String || t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String
	if _, parsedString := raw.(string); isString && !(ok && parsedString) {
		if !utf8.ValidString(text) {
			return reflect.Value{}, "value is not valid UTF-8"
		}
		raw = text
	} else if !ok {
		return reflect.Value{}, fmt.Sprintf("want %s, got %q", typeName(t), text)
	}
	return convert(raw, t)
}
