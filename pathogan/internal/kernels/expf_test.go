package kernels

import (
	"math"
	"testing"
)

// TestExpf checks expf, expm1f and signf against the float64 math package over their range,
// including the ends, zeros, infinities and NaN.
func TestExpf(t *testing.T) {
	worstExp, worstExpm1 := 0.0, 0.0
	check := func(x float32) {
		want := math.Exp(float64(x))
		got := float64(expf(x))
		if want < 1.1754944e-38 { // A float32 subnormal: expf returns float32(math.Exp(x)).
			if got != float64(float32(want)) {
				t.Fatalf("expf(%g) = %g, want %g", x, got, float32(want))
			}
		} else if !math.IsInf(want, 0) && want < math.MaxFloat32 {
			worstExp = max(worstExp, math.Abs(got-want)/want)
		} else if !math.IsInf(got, 1) {
			t.Fatalf("expf(%g) = %g, want +Inf (float32 overflow)", x, got)
		}
		wantM := math.Expm1(float64(x))
		gotM := float64(expm1f(x))
		if wantM > math.MaxFloat32 {
			if !math.IsInf(gotM, 1) {
				t.Fatalf("expm1f(%g) = %g, want +Inf (float32 overflow)", x, gotM)
			}
		} else if wantM != 0 {
			worstExpm1 = max(worstExpm1, math.Abs(gotM-wantM)/math.Abs(wantM))
		} else if gotM != wantM {
			t.Fatalf("expm1f(%g) = %g, want %g", x, gotM, wantM)
		}
	}
	for x := float32(-100); x < 100; x += 0.0137 {
		check(x)
	}
	for _, x := range []float32{-0.5, 0.5, 0.4999999, -0.4999999, 1e-8, -1e-8, 1e-30, 88.7, -87.3, 89, -104, 0} {
		check(x)
	}
	if worstExp > 3e-7 || worstExpm1 > 3e-7 {
		t.Fatalf("worst relative error: expf %.3g, expm1f %.3g; want <= 3e-7", worstExp, worstExpm1)
	}
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	if expf(inf) != inf || expf(-inf) != 0 || expm1f(-inf) != -1 || expm1f(inf) != inf || !math.IsNaN(float64(expm1f(nan))) || !math.IsNaN(float64(expf(nan))) {
		t.Fatal("expf/expm1f special values")
	}
	negZero := float32(math.Copysign(0, -1))
	for x, want := range map[float32]float32{3: 1, -0.1: -1, inf: 1, -inf: -1, 1e-40: 1, -1e-40: -1} {
		if got := signf(x); got != want {
			t.Fatalf("signf(%g) = %g, want %g", x, got, want)
		}
	}
	if signf(0) != 0 || math.Signbit(float64(signf(0))) || !math.Signbit(float64(signf(negZero))) || !math.IsNaN(float64(signf(nan))) {
		t.Fatal("signf of ±0 or NaN")
	}
	t.Logf("worst relative error: expf %.3g, expm1f %.3g", worstExp, worstExpm1)
}

// expf and expm1f run expSlice on one value.
func expf(x float32) float32 {
	var d [1]float32
	expSlice(d[:], []float32{x}, false)
	return d[0]
}

func expm1f(x float32) float32 {
	var d [1]float32
	expSlice(d[:], []float32{x}, true)
	return d[0]
}

// TestExpBlocksExact checks the eight-lane exp against the one-value loop bit for bit, for exp
// and expm1, on float32 values spread over the whole in-range interval (every 4099th bit
// pattern, both signs) and next to the ends and the expm1 switch at n = 100.
func TestExpBlocksExact(t *testing.T) {
	if !hasExpBlocks {
		t.Skip("no AVX2 here")
	}
	var xs []float32
	for b := uint32(0); b < 0x7f800000; b += 4099 {
		for _, v := range []float32{math.Float32frombits(b), -math.Float32frombits(b)} {
			if v > expLo && v < expHi {
				xs = append(xs, v)
			}
		}
	}
	for _, v := range []float32{expHi, expLo, 69.3, 69.31, 69.32, 0, float32(math.Copysign(0, -1))} {
		for d := float32(-1e-3); d <= 1e-3; d += 1e-4 {
			if w := v + d*v; w > expLo && w < expHi {
				xs = append(xs, w)
			}
		}
	}
	xs = xs[:len(xs)&^7]
	for _, minusOne := range []bool{false, true} {
		want, got := make([]float32, len(xs)), make([]float32, len(xs))
		expLoop(want, xs, minusOne)
		limit := int32(math.MinInt32)
		if minusOne {
			limit = 100
		}
		if n := expBlocks(&got[0], &xs[0], len(xs), limit); n != len(xs) {
			t.Fatalf("expBlocks stopped at %d of %d in-range values", n, len(xs))
		}
		for i := range xs {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("minusOne=%v x=%v: %v in blocks, %v in the loop", minusOne, xs[i], got[i], want[i])
			}
		}
	}
	// In place, with an out-of-range value in one chunk and a tail of five.
	x := make([]float32, 8*70+5)
	for i := range x {
		x[i] = float32(i%97)/10 - 5
	}
	x[300] = 100
	x[411] = float32(math.NaN())
	want := make([]float32, len(x))
	expLoop(want, x, true)
	expSlice(x, x, true)
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
			t.Fatalf("in place, element %d: %v, want %v", i, x[i], want[i])
		}
	}
}
