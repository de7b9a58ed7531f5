package estimatortest

import (
	"reflect"
	"strings"
)

// fieldInt returns the int field of a settings struct tagged key.
func fieldInt(settings any, key string) (int, bool) {
	v := reflect.ValueOf(settings)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0, false
	}
	for _, f := range reflect.VisibleFields(v.Type()) {
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == key && f.Type.Kind() == reflect.Int {
			return int(v.FieldByIndex(f.Index).Int()), true
		}
	}
	return 0, false
}
