package kernels

import (
	"math"
	"testing"
)

// ulps returns |got - want| in units of the float32 spacing at want.
func ulps(got float32, want float64) float64 {
	w := float32(want)
	spacing := float64(math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1))) - float32(math.Abs(float64(w))))
	return math.Abs(float64(got)-want) / spacing
}

// TestMathf checks the float32 Tanh, Logistic, Log, Log1p and Cos against the float64 math
// package: at most 3 ulps (Cos: 3 ulps or 1.2e-7 absolute, near its zeros) over their ranges,
// in the blocks of tanhSlice and logisticSlice and across the switches to the math package,
// and the special values (±0, ±Inf, NaN, the ends of the domains). The worst errors are logged.
func TestMathf(t *testing.T) {
	var xs []float32
	for x := float32(-120); x < 120; x += 0.00731 {
		xs = append(xs, x)
	}
	for e := -40; e <= 38; e++ {
		v := float32(math.Pow(10, float64(e)))
		xs = append(xs, v, -v, v*1.37, -v*2.91)
	}
	xs = append(xs, 0.625, 9.1, 10, 88.7, -88.7, 8192, 8193, -8192.5, 1e-45, math.MaxFloat32, -0.9999999, -0.5)
	funcs := []struct {
		name string
		f    func(dst, x []float32)
		want func(float64) float64
		ok   func(x float64) bool // the domain checked against want
		abs  float64              // absolute error allowed besides 3 ulps
	}{
		{"tanh", tanhSlice, math.Tanh, func(float64) bool { return true }, 0},
		{"logistic", logisticSlice, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, func(x float64) bool { return x > -87 }, 0},
		{"log", logSlice, math.Log, func(x float64) bool { return x > 0 }, 0},
		{"log1p", log1pSlice, math.Log1p, func(x float64) bool { return x > -1 }, 0},
		{"cos", cosSlice, math.Cos, func(float64) bool { return true }, 1.2e-7},
	}
	for _, fn := range funcs {
		got := make([]float32, len(xs))
		fn.f(got, xs)
		worst := 0.0
		for i, x := range xs {
			if !fn.ok(float64(x)) {
				continue
			}
			want := fn.want(float64(x))
			if math.Abs(want) > math.MaxFloat32 || (want != 0 && math.Abs(want) < minNormal32) {
				continue
			}
			u := ulps(got[i], want)
			if u > 3 && math.Abs(float64(got[i])-want) > fn.abs {
				t.Fatalf("%s(%g) = %g, want %g (%.1f ulps)", fn.name, x, got[i], want, u)
			}
			if fn.abs == 0 || math.Abs(want) > 1e-3 {
				worst = max(worst, u)
			}
		}
		// In place, as the executors run them on a taken input buffer.
		in := append([]float32(nil), xs...)
		fn.f(in, in)
		for i := range in {
			if math.Float32bits(in[i]) != math.Float32bits(got[i]) && !(math.IsNaN(float64(in[i])) && math.IsNaN(float64(got[i]))) {
				t.Fatalf("%s in place: element %d (x = %g) %g, %g out of place", fn.name, i, xs[i], in[i], got[i])
			}
		}
		t.Logf("%s: worst %.2f ulps", fn.name, worst)
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	one := func(f func(dst, x []float32), x float32) float32 {
		var d [1]float32
		f(d[:], []float32{x})
		return d[0]
	}
	for _, c := range []struct {
		name string
		f    func(dst, x []float32)
		x    float32
		want float64
	}{
		{"tanh", tanhSlice, inf, 1}, {"tanh", tanhSlice, -inf, -1}, {"tanh", tanhSlice, nan, math.NaN()},
		{"tanh", tanhSlice, 0, 0}, {"tanh", tanhSlice, negZero, math.Copysign(0, -1)},
		{"logistic", logisticSlice, inf, 1}, {"logistic", logisticSlice, -inf, 0}, {"logistic", logisticSlice, -200, 0},
		{"logistic", logisticSlice, nan, math.NaN()},
		{"log", logSlice, 0, math.Inf(-1)}, {"log", logSlice, -1, math.NaN()}, {"log", logSlice, inf, math.Inf(1)},
		{"log", logSlice, 1, 0}, {"log", logSlice, 1e-40, math.Log(float64(float32(1e-40)))},
		{"log1p", log1pSlice, -1, math.Inf(-1)}, {"log1p", log1pSlice, -2, math.NaN()}, {"log1p", log1pSlice, 0, 0},
		{"log1p", log1pSlice, negZero, math.Copysign(0, -1)}, {"log1p", log1pSlice, 1e-30, 1e-30}, {"log1p", log1pSlice, inf, math.Inf(1)},
		{"cos", cosSlice, inf, math.NaN()}, {"cos", cosSlice, nan, math.NaN()}, {"cos", cosSlice, 0, 1},
		{"cos", cosSlice, 1e6, math.Cos(1e6)},
	} {
		got := float64(one(c.f, c.x))
		same := got == c.want && math.Signbit(got) == math.Signbit(c.want)
		if math.IsNaN(c.want) {
			same = math.IsNaN(got)
		} else if !math.IsInf(c.want, 0) && c.want != 0 {
			same = math.Abs(got-c.want) <= 1e-6*math.Abs(c.want)
		}
		if !same {
			t.Errorf("%s(%g) = %g, want %g", c.name, c.x, got, c.want)
		}
	}
}
