package training

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// SetField changes the field of the struct *ptr whose JSON name is key,
// parsing value for the field's type (int, uint64, float64, bool, string).
// Every model's config uses it for its Set method.
func SetField(ptr any, key, value string) error {
	v := reflect.ValueOf(ptr).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("json"), ",")[0] != key {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Int:
			n, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("%s=%q: want an integer", key, value)
			}
			f.SetInt(int64(n))
		case reflect.Uint64:
			n, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return fmt.Errorf("%s=%q: want a non-negative integer", key, value)
			}
			f.SetUint(n)
		case reflect.Float64:
			x, err := strconv.ParseFloat(value, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%s=%q: want a finite number", key, value)
			}
			f.SetFloat(x)
		case reflect.Bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("%s=%q: want true or false", key, value)
			}
			f.SetBool(b)
		case reflect.String:
			f.SetString(value)
		}
		return nil
	}
	return fmt.Errorf("unknown setting %q (see `pathogan train -h` for the list)", key)
}

// ApplySettings parses "key=value;key=value" and calls set for each pair, in
// order (every model's ApplySettings).
func ApplySettings(s string, set func(key, value string) error) error {
	for _, kv := range strings.Split(s, ";") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("setting %q: want key=value", kv)
		}
		if err := set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return err
		}
	}
	return nil
}
