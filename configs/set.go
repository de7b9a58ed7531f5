package configs

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// applySets writes the -set overrides into raw, the decoded TOML document,
// in order, and records their keys. A value is kept as text until it is
// decoded with the file's values, when its type is known.
func (d *decoded) applySets(raw map[string]any, sets []string) []*Error {
	var errs []*Error
	for _, s := range sets {
		key, err := applySet(raw, s)
		if err != nil {
			err.File = d.path
			errs = append(errs, err)
			continue
		}
		d.sets[key] = true
	}
	return errs
}

// applySet applies one override, KEY=VALUE, to raw and returns the key in
// the form joinKey and indexKey write it. It checks the key against the
// experiment's types; keys of the [estimator] tables other than kind are
// checked when the tables are decoded, for the kind then in force.
func applySet(raw map[string]any, s string) (string, *Error) {
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

	t, m := experimentType, raw
	key := ""
	segs := strings.Split(k, ".")
	for i, seg := range segs {
		last := i == len(segs)-1
		name, index, hasIndex, ok := parseSegment(seg)
		if !ok {
			return fail("malformed key (want dotted.key or arms[N].dotted.key)")
		}
		var ft reflect.Type
		if t == estimatorType || t == overrideType {
			// kind, or a key of the kind's settings: a value either way.
			ft = reflect.TypeFor[string]()
		} else {
			f, ok := fieldByName(t, name)
			if !ok {
				return fail("%s", unknownKey(t, name))
			}
			ft = f.Type
		}
		key = joinKey(key, name)
		switch {
		case ft == armsType:
			tables, _ := tableArray(m[name])
			switch {
			case !hasIndex:
				return fail("select one entry, as in %s[0]%s", key, strings.TrimPrefix(k, seg))
			case index >= len(tables):
				return fail("no [[%s]] entry %d (the experiment has %d; indices count from 0)", name, index, len(tables))
			case tables[index] == nil:
				return fail("%s in the file is not a table", indexKey(key, index))
			case last:
				return fail("is a table; set one of its keys")
			}
			t, m, key = armType, tables[index], indexKey(key, index)
		case hasIndex:
			return fail("cannot index %s; set the whole value", key)
		case ft.Kind() == reflect.Struct:
			if last {
				return fail("is a table; set one of its keys")
			}
			if _, exists := m[name]; !exists {
				m[name] = map[string]any{}
			}
			sub, ok := m[name].(map[string]any)
			if !ok {
				return fail("%s in the file is not a table", key)
			}
			t, m = ft, sub
		case !last:
			return fail("%s is not a table", key)
		default:
			m[name] = setValue{strings.TrimSpace(value)}
		}
	}
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
