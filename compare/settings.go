package compare

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/glr-project/glr/estimators"
)

// cloneSettings returns a copy of settings that can be changed alone.
func cloneSettings(s estimators.Settings) estimators.Settings {
	v := reflect.New(reflect.TypeOf(s).Elem())
	v.Elem().Set(reflect.ValueOf(s).Elem())
	return v.Interface().(estimators.Settings)
}

// copiesField returns the settings' int field tagged copies, if any.
func copiesField(s estimators.Settings) (reflect.Value, bool) {
	v := reflect.ValueOf(s).Elem()
	for _, f := range reflect.VisibleFields(v.Type()) {
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "copies" && f.Type.Kind() == reflect.Int {
			return v.FieldByIndex(f.Index), true
		}
	}
	return reflect.Value{}, false
}

// copiesOf returns the settings' copies, or 1 for a kind without the key.
func copiesOf(s estimators.Settings) int {
	if f, ok := copiesField(s); ok {
		return int(f.Int())
	}
	return 1
}

// withCopies returns a copy of settings with their copies key set to k.
func withCopies(s estimators.Settings, k int) (estimators.Settings, error) {
	c := cloneSettings(s)
	f, ok := copiesField(c)
	if !ok {
		return nil, fmt.Errorf("its kind has no copies key to set")
	}
	f.SetInt(int64(k))
	return c, nil
}
