package configs

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/glr-project/glr/estimators"
)

// This file holds what configs knows about estimator kinds, all of it read
// from the registry of package estimators: which kinds exist, their
// settings' keys and types, and their defaults. It names no kind except
// defaultKind.

var (
	estimatorType = reflect.TypeFor[Estimator]()
	overrideType  = reflect.TypeFor[EstimatorOverride]()
)

// defaultSettings returns the default settings of kind, or nil if no such
// kind is registered.
func defaultSettings(kind string) estimators.Settings {
	k, ok := estimators.Lookup(kind)
	if !ok {
		return nil
	}
	return k.NewSettings()
}

// unknownKind is the message for an estimator kind that is not registered.
func unknownKind(kind string) string {
	return fmt.Sprintf("unknown estimator %q (want %s)", kind, strings.Join(estimators.Names(), " | "))
}

// settingsStruct returns the struct that the settings s point to, or false
// if s is not a non-nil pointer to a struct.
func settingsStruct(s estimators.Settings) (reflect.Value, bool) {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	return v.Elem(), true
}

// cloneSettings returns a deep copy of s: new settings of the same type
// whose slices are copies of those of s. Settings that are not a pointer to
// a struct are returned as they are.
func cloneSettings(s estimators.Settings) estimators.Settings {
	v, ok := settingsStruct(s)
	if !ok {
		return s
	}
	c := reflect.New(v.Type())
	c.Elem().Set(v)
	for _, f := range reflect.VisibleFields(v.Type()) {
		if fv := c.Elem().FieldByIndex(f.Index); f.IsExported() && fv.Kind() == reflect.Slice && !fv.IsNil() {
			fv.Set(cloneSlice(fv))
		}
	}
	return c.Interface().(estimators.Settings)
}

func cloneSlice(v reflect.Value) reflect.Value {
	c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
	reflect.Copy(c, v)
	return c
}

// checkSettings reports settings that are not those of the registered kind:
// an unknown kind on the key kind, missing or foreign settings on the key
// estimator. Keys are relative to the estimator table's key, prefix.
func checkSettings(ps *problems, prefix string, e Estimator) bool {
	k, ok := estimators.Lookup(e.Kind)
	if !ok {
		ps.add(prefix+".kind", "%s", unknownKind(e.Kind))
		return false
	}
	if e.Settings == nil {
		ps.add(prefix, "no settings for estimator kind %q", e.Kind)
		return false
	}
	if want := reflect.TypeOf(k.NewSettings()); reflect.TypeOf(e.Settings) != want {
		ps.add(prefix, "settings are %T, want %v for estimator kind %q", e.Settings, want, e.Kind)
		return false
	}
	return true
}

// armEstimator returns the estimator of arm a, resolved as
// [EstimatorOverride] says, with the problems found in the arm's overrides,
// keyed "estimator.KEY". The settings share no memory with e's or a's.
func (e *Experiment) armEstimator(a *Arm) (Estimator, problems) {
	var ps problems
	o := a.Estimator
	r := Estimator{Kind: e.Estimator.Kind}
	if o.Kind != nil && *o.Kind != e.Estimator.Kind {
		r.Kind = *o.Kind
		r.Settings = defaultSettings(r.Kind)
		if r.Settings == nil {
			ps.add("estimator.kind", "%s", unknownKind(r.Kind))
			return r, ps
		}
	} else {
		r.Settings = cloneSettings(e.Estimator.Settings)
		if r.Settings == nil {
			r.Settings = defaultSettings(r.Kind)
		}
	}
	v, ok := settingsStruct(r.Settings)
	if !ok {
		// The experiment's own estimator is reported by checkSettings.
		return r, ps
	}
	for _, key := range sortedKeys(o.Settings) {
		if msg := setSetting(r.Kind, v, key, o.Settings[key]); msg != "" {
			ps.add("estimator."+key, "%s", msg)
		}
	}
	return r, ps
}

// setSetting sets the field of the settings struct v whose key is name to
// value, a copy of it for a slice. It returns what is wrong if the kind
// has no such key or value is not of the field's type.
func setSetting(kind string, v reflect.Value, name string, value any) string {
	f, ok := fieldByName(v.Type(), name)
	if !ok {
		return notAKey(kind, v.Type(), name)
	}
	x := reflect.ValueOf(value)
	if !x.IsValid() || x.Type() != f.Type {
		return fmt.Sprintf("value %#v is a %T, want %v", value, value, f.Type)
	}
	if x.Kind() == reflect.Slice && !x.IsNil() {
		x = cloneSlice(x)
	}
	v.FieldByIndex(f.Index).Set(x)
	return ""
}

// notAKey explains why name is not a key of the settings struct type t of
// kind: it lists the kind's keys and either the other kinds that have the
// key or the key that name may be a misspelling of.
func notAKey(kind string, t reflect.Type, name string) string {
	keys := keyNames(t)
	msg := fmt.Sprintf("not a key of estimator kind %q (it has no keys)", kind)
	if len(keys) > 0 {
		msg = fmt.Sprintf("not a key of estimator kind %q (its keys: %s)", kind, strings.Join(keys, ", "))
	}
	var others []string
	for _, k := range estimators.Kinds() {
		if v, ok := settingsStruct(k.NewSettings()); ok && k.Name != kind {
			if _, has := fieldByName(v.Type(), name); has {
				others = append(others, k.Name)
			}
		}
	}
	if len(others) > 0 {
		return fmt.Sprintf("%s; %s is a key of %s", msg, name, joinAnd(others))
	}
	if best := closest(keys, name); best != "" {
		return fmt.Sprintf("%s; did you mean %q?", msg, best)
	}
	return msg
}

// joinAnd joins words as "a", "a and b" or "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// settingsKeysInOrder returns the keys of m in the declaration order of
// kind's settings, then any others sorted.
func settingsKeysInOrder(kind string, m map[string]any) []string {
	var order []string
	if v, ok := settingsStruct(defaultSettings(kind)); ok {
		order = keyNames(v.Type())
	}
	var keys, rest []string
	for _, k := range order {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	return append(keys, rest...)
}

// overrides reports whether the override sets key, "kind" or a settings
// key.
func (o *EstimatorOverride) overrides(key string) bool {
	if key == "kind" {
		return o.Kind != nil
	}
	_, ok := o.Settings[key]
	return ok
}
