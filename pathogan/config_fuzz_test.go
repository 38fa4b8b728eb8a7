package pathogan

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// renderSettings writes every field of c as "key=value;..." for
// ApplySettings, in field order.
func renderSettings(c Config) string {
	v := reflect.ValueOf(c)
	keys := Keys()
	parts := make([]string, len(keys))
	for i, k := range keys {
		f := v.Field(i)
		var s string
		switch f.Kind() {
		case reflect.Int:
			s = strconv.FormatInt(f.Int(), 10)
		case reflect.Uint64:
			s = strconv.FormatUint(f.Uint(), 10)
		case reflect.Float64:
			s = strconv.FormatFloat(f.Float(), 'g', -1, 64)
		case reflect.Bool:
			s = strconv.FormatBool(f.Bool())
		case reflect.String:
			s = f.String()
		default:
			panic("renderSettings: field " + k + " of kind " + f.Kind().String())
		}
		parts[i] = k + "=" + s
	}
	return strings.Join(parts, ";")
}

// FuzzApplySettings feeds arbitrary --set strings to the settings parser on
// the tiny preset: no panic (nor in Validate and the derived sizes), an
// error on failure, the same result twice, and an accepted config rendered
// back as "key=value;..." for every field gives the same config again.
func FuzzApplySettings(f *testing.F) {
	for _, s := range []string{
		"batch=2", "lambda_r=0.25; seed=7", "learning_rate=NaN", "learning_rate=1e400",
		"dense_init=fan_in;downsamplings=3", " augment = false ;; threshold=0.4 ;", "nokey", "size=64=3",
		"seed=-1", "batch=99999999999999999999", "preset=x;size=48;downsamplings=4", "beta1=0x1p-2", "=3", ";;;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Preset("tiny")
		if err != nil {
			t.Fatal(err)
		}
		base := c
		if err := c.ApplySettings(s); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		again := base
		if err := again.ApplySettings(s); err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("%q applied twice: %+v then %+v (%v)", s, c, again, err)
		}
		if c.Validate() == nil {
			if c.I() < 1 || c.R() < 2 || c.Downs() < 2 {
				t.Fatalf("%q: a valid config with i %d, r %d, downs %d", s, c.I(), c.R(), c.Downs())
			}
		}
		canon := renderSettings(c)
		back := base
		if err := back.ApplySettings(canon); err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("%q rendered as %q reads back as %+v, want %+v (%v)", s, canon, back, c, err)
		}
	})
}
