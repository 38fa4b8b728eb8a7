package kernels

import "math"

// Cephes' expf: x = n·ln2 + r with |r| <= ln2/2 and e^r = 1 + r + r²·p(r), p of degree 5.
const (
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375    // ln2, high part
	expC2    = -2.12194440e-4 // ln2, low part
	expP0    = 5.0000001201e-1
	expP1    = 1.6666665459e-1
	expP2    = 4.1665795894e-2
	expP3    = 8.3334519073e-3
	expP4    = 1.3981999507e-3
	expP5    = 1.9875691500e-4
	expRound = 12582912 // 1.5·2²³: (t + expRound) - expRound rounds t to an integer.
	expHi    = 88.72283
	expLo    = -87.33654 // Below this e^x is subnormal in float32.
)

// expSlice sets dst[i] = e^x[i], or e^x[i] - 1 when minusOne, in float32 with about 1 ulp
// error. e^r - 1 = r + r²·p(r) is accurate near 0, so e^x - 1 = 2^n·(e^r - 1) + (2^n - 1) does
// not cancel. The polynomial is evaluated in Estrin's form (expLoop): the latency of the
// dependent multiply-adds, not their number, is what bounds a scalar exp. With AVX2 the same
// operations run on eight values at once (expBlocks, expf_amd64.s). Out-of-range inputs
// (overflow, subnormal results, NaN) go through math.Exp/Expm1.
func expSlice(dst, x []float32, minusOne bool) {
	x = x[:len(dst)]
	if hasExpBlocks {
		// Blocks of eight in-range inputs go through expBlocks, with the loop's arithmetic on
		// eight lanes; a block with an input out of range, and the last floats, through the
		// loop below. dst may be x: each block is read before it is written.
		limit := int32(math.MinInt32)
		if minusOne {
			limit = 100
		}
		for len(x) >= 8 {
			n := expBlocks(&dst[0], &x[0], len(x), limit)
			if n < len(x)&^7 {
				expLoop(dst[n:n+8], x[n:n+8], minusOne)
				n += 8
			}
			dst, x = dst[n:], x[n:]
		}
	}
	expLoop(dst, x, minusOne)
}

// expLoop is expSlice one value at a time.
func expLoop(dst, x []float32, minusOne bool) {
	for i, v := range x {
		if !(v > expLo && v < expHi) {
			if minusOne {
				dst[i] = float32(math.Expm1(float64(v)))
			} else {
				dst[i] = float32(math.Exp(float64(v)))
			}
			continue
		}
		n := (v*expLog2e + expRound) - expRound
		r := v - n*expC1 - n*expC2
		z := r * r
		p := (expP0 + expP1*r) + z*(expP2+expP3*r) + (z*z)*(expP4+expP5*r)
		q := r + z*p // e^r - 1
		ni := int32(n)
		n1 := ni >> 1
		s1 := math.Float32frombits(uint32(n1+127) << 23)
		s2 := math.Float32frombits(uint32(ni-n1+127) << 23)
		if minusOne && ni < 100 {
			s := s1 * s2
			dst[i] = s*q + (s - 1)
		} else {
			dst[i] = s1 * (s2 * (q + 1))
		}
	}
}

// signf is Sign(x) without data-dependent branches: ±1, ±0 kept, NaN kept.
func signf(x float32) float32 {
	b := math.Float32bits(x)
	mag := b & 0x7fffffff
	nonzero := uint32(-int32(mag) >> 31)         // All ones when x != ±0.
	isNaN := uint32(int32(0x7f800000-mag) >> 31) // All ones when x is NaN.
	one := 0x3f800000 | b&0x80000000
	r := one&nonzero | b&^nonzero
	return math.Float32frombits(r&^isNaN | b&isNaN)
}
