package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBitIdentical checks every op and form against the plain Go loops, bit for bit, on lengths
// around the 8- and 32-float steps, including infinities, NaN, zeros and subnormals.
func TestBitIdentical(t *testing.T) {
	t.Logf("AVX2: %v", useAVX2)
	r := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -3e38}
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 64, 100, 1027} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			if i%11 == 3 {
				x[i] = special[i%len(special)]
			}
			if i%13 == 5 {
				y[i] = special[(i/2)%len(special)]
			}
		}
		s := float32(r.NormFloat64())
		for _, op := range []Op{Add, Sub, Mul, Div, Max, Min} {
			check := func(form string, got, want []float32) {
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
						t.Fatalf("op %d %s n=%d element %d: %v, want %v", op, form, n, i, got[i], want[i])
					}
				}
			}
			got, want := make([]float32, n), make([]float32, n)
			VV(op, got, x, y)
			goVV(op, want, x, y)
			check("VV", got, want)
			VS(op, got, x, s)
			goVS(op, want, x, s)
			check("VS", got, want)
			SV(op, got, s, y)
			goSV(op, want, s, y)
			check("SV", got, want)
			// In place (dst aliasing x), as the executors reuse buffers.
			z := append([]float32(nil), x...)
			VV(op, z, z, y)
			goVV(op, want, x, y)
			check("VV in place", z, want)
		}
	}
}

// TestSelect checks Select against the Go loop, bit for bit, in place too.
func TestSelect(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 33, 1000} {
		cond := make([]bool, n)
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			cond[i] = r.IntN(2) == 1
			x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			if i%7 == 2 {
				x[i] = float32(math.NaN())
			}
		}
		got, want := make([]float32, n), make([]float32, n)
		Select(got, cond, x, y)
		goSelect(want, cond, x, y)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d element %d: %v, want %v", n, i, got[i], want[i])
			}
		}
		z := append([]float32(nil), y...)
		Select(z, cond, x, z)
		for i := range want {
			if math.Float32bits(z[i]) != math.Float32bits(want[i]) {
				t.Fatalf("in place n=%d element %d: %v, want %v", n, i, z[i], want[i])
			}
		}
	}
}

func BenchmarkVV(b *testing.B) {
	for _, n := range []int{32768, 262144} {
		x, y, d := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i), float32(n-i)
		}
		b.Run(fmt.Sprintf("vec/%d", n), func(b *testing.B) {
			for b.Loop() {
				VV(Mul, d, x, y)
			}
		})
		b.Run(fmt.Sprintf("go/%d", n), func(b *testing.B) {
			for b.Loop() {
				goVV(Mul, d, x, y)
			}
		})
	}
}

// TestMinMaxSpecial checks Max and Min on every pair of special values against Go's built-in max
// and min, bit for bit (NaN as NaN): +0 and -0 in both orders, infinities, NaN, subnormals.
func TestMinMaxSpecial(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-40, -1e-40, 3e38}
	var x, y []float32
	for _, a := range special {
		for _, b := range special {
			x, y = append(x, a), append(y, b)
		}
	}
	same := func(got, want float32) bool {
		return math.Float32bits(got) == math.Float32bits(want) || (got != got && want != want)
	}
	n := len(x)
	got := make([]float32, n)
	for _, op := range []Op{Max, Min} {
		pick := func(a, b float32) float32 { return max(a, b) }
		if op == Min {
			pick = func(a, b float32) float32 { return min(a, b) }
		}
		VV(op, got, x, y)
		for i := range got {
			if want := pick(x[i], y[i]); !same(got[i], want) {
				t.Fatalf("op %d VV(%v, %v) = %v (%#x), want %v (%#x)", op, x[i], y[i], got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
			}
		}
		for _, s := range special {
			VS(op, got, x, s)
			for i := range got {
				if want := pick(x[i], s); !same(got[i], want) {
					t.Fatalf("op %d VS(%v, %v) = %v, want %v", op, x[i], s, got[i], want)
				}
			}
			SV(op, got, s, y)
			for i := range got {
				if want := pick(s, y[i]); !same(got[i], want) {
					t.Fatalf("op %d SV(%v, %v) = %v, want %v", op, s, y[i], got[i], want)
				}
			}
		}
	}
}
