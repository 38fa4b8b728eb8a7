package kernels

import (
	"math"
	"testing"
)

// TestExpm1NotBelowX checks that expSlice's e^x - 1 is never below x for negative x (the
// inequality e^x - 1 >= x, kept by the float32 rounding): backend.ELU relies on it to write
// ELU as max(x, e^min(x, 0) - 1). It runs every negative float32 down to -Inf (about 6 s), or
// every 1009th with -short.
func TestExpm1NotBelowX(t *testing.T) {
	step := uint32(1)
	if testing.Short() {
		step = 1009
	}
	const chunk = 1 << 16
	x, d := make([]float32, 0, chunk), make([]float32, chunk)
	check := func() {
		expSlice(d[:len(x)], x, true)
		for i, v := range x {
			if d[i] < v {
				t.Fatalf("expm1(%g) = %g, below x", v, d[i])
			}
		}
		x = x[:0]
	}
	for bits := uint64(0x80000000); bits <= 0xff800000; bits += uint64(step) {
		x = append(x, math.Float32frombits(uint32(bits)))
		if len(x) == chunk {
			check()
		}
	}
	check()
}
