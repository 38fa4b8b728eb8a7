package kernels

import "math"

// Float32 transcendental functions for the unary executors. simplego and the float64 math
// package take 10-25 ns a value for Tanh, Logistic, Log, Log1p and Cos; at 128 px a training
// step runs them on a few million values (the generator's tanh, normal noise, the losses).
// These take a few ns, with errors of a few float32 ulps (TestMathf); inputs outside the ranges
// they are written for go through the math package.

// mathfBlock is how many values throughExp hands expSlice at a time.
const mathfBlock = 512

// throughExp runs a function of e^u (or e^u - 1 when minusOne) block by block: arg writes the
// block's exponents u from its inputs, exp runs on them in place, and result writes the
// block's outputs from those and the inputs. dst may be x: a block's inputs are read before
// its outputs are written.
func throughExp(dst, x []float32, minusOne bool, arg func(u, x []float32), result func(dst, e, x []float32)) {
	var t [mathfBlock]float32
	for len(x) > 0 {
		n := min(len(x), mathfBlock)
		arg(t[:n], x[:n])
		expSlice(t[:n], t[:n], minusOne)
		result(dst[:n], t[:n], x[:n])
		dst, x = dst[n:], x[n:]
	}
}

// tanhSlice sets dst[i] = tanh(x[i]) as t/(t+2) with t = e^(2|x|) - 1 (expSlice), and x's sign
// bit: e^(2|x|) - 1 keeps its relative accuracy near 0, where tanh(x) ≈ x. From |x| = 9.1 on,
// tanh rounds to ±1 in float32, so |x| is capped at 10 (no overflow). No branch depends on the
// values' signs. dst may be x.
func tanhSlice(dst, x []float32) {
	throughExp(dst, x, true, func(u, x []float32) {
		for i, v := range x {
			a := math.Float32frombits(math.Float32bits(v) &^ signBit)
			if a > 10 {
				a = 10
			}
			u[i] = 2 * a
		}
	}, func(dst, t, x []float32) {
		for i, v := range x {
			r := t[i] / (t[i] + 2)
			dst[i] = math.Float32frombits(math.Float32bits(r) | math.Float32bits(v)&signBit)
		}
	})
}

// signBit is a float32's sign bit.
const signBit = 0x80000000

// logisticSlice sets dst[i] = 1/(1 + e^-x[i]). e^-x overflows to +Inf for x below -88.7, which
// gives 0, as the logistic does in float32. dst may be x.
func logisticSlice(dst, x []float32) {
	throughExp(dst, x, false, func(u, x []float32) {
		for i, v := range x {
			u[i] = -v
		}
	}, func(dst, e, _ []float32) {
		for i, v := range e {
			dst[i] = 1 / (1 + v)
		}
	})
}

// Cephes' logf: x = m·2^e with m in [√½, √2), log x = e·ln2 + log m, log(1+f) = f - f²/2 + f³·p(f).
const (
	logP0       = 7.0376836292e-2
	logP1       = -1.1514610310e-1
	logP2       = 1.1676998740e-1
	logP3       = -1.2420140846e-1
	logP4       = 1.4249322787e-1
	logP5       = -1.6668057665e-1
	logP6       = 2.0000714765e-1
	logP7       = -2.4999993993e-1
	logP8       = 3.3333331174e-1
	minNormal32 = 1.17549435e-38
)

// logf is the natural logarithm of a normal, positive, finite float32, with about 1 ulp error.
// Subtracting √½'s bits from x's splits it into m·2^e with m in [√½, √2) without a branch (a
// branch on m < √½ is mispredicted for half of random inputs); f = m - 1 is exact.
func logf(x float32) float32 {
	ix := math.Float32bits(x) - sqrtHalfBits
	e := float32(int32(ix) >> 23)
	f := math.Float32frombits(ix&0x007fffff+sqrtHalfBits) - 1
	z := f * f
	p := ((((((((logP0*f+logP1)*f+logP2)*f+logP3)*f+logP4)*f+logP5)*f+logP6)*f+logP7)*f + logP8) * f * z
	p += expC2 * e
	p -= 0.5 * z
	return f + p + expC1*e
}

// sqrtHalfBits is the bit pattern of float32(√½).
const sqrtHalfBits = 0x3f3504f3

// logSlice sets dst[i] = log(x[i]); zero, negative, subnormal, infinite and NaN inputs go
// through math.Log.
func logSlice(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		if v >= minNormal32 && v <= math.MaxFloat32 {
			dst[i] = logf(v)
		} else {
			dst[i] = float32(math.Log(float64(v)))
		}
	}
}

// log1pSlice sets dst[i] = log(1 + x[i]) as log(u)·x/(u - 1) with u = 1 + x rounded, which
// cancels u's rounding error (u - 1 is exact); x so small that u is 1 gives x. Inputs with u
// not normal and finite (x ≤ -1, huge or NaN) go through math.Log1p.
func log1pSlice(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		u := 1 + v
		switch {
		case u == 1:
			dst[i] = v
		case u >= minNormal32 && u <= math.MaxFloat32:
			dst[i] = logf(u) * (v / (u - 1))
		default:
			dst[i] = float32(math.Log1p(float64(v)))
		}
	}
}

// Cephes' cosf: |x| = j·π/4 + r with j even and |r| ≤ π/4, π/4 in three parts so that j·π/4 is
// exact for j < 2¹⁶, and polynomials for sin r and cos r.
const (
	cosFourOverPi = 1.27323954473516
	cosDP1        = 0.78515625
	cosDP2        = 2.4187564849853515625e-4
	cosDP3        = 3.77489497744594108e-8
	cosMax        = 8192 // beyond this the reduction loses accuracy: math.Cos
)

// cosSlice sets dst[i] = cos(x[i]), with about 1 ulp error (absolute 6e-8 near its zeros) for
// |x| ≤ 8192, and math.Cos beyond (and for NaN).
func cosSlice(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		a := float32(math.Abs(float64(v)))
		if !(a <= cosMax) {
			dst[i] = float32(math.Cos(float64(v)))
			continue
		}
		// j·π/4 with j even nearest |x|; the sign and the polynomial from j's bits, without
		// branches (they would be mispredicted on random angles).
		j := (int32(cosFourOverPi*a) + 1) &^ 1
		y := float32(j)
		r := ((a - y*cosDP1) - y*cosDP2) - y*cosDP3
		z := r * r
		sin := ((-1.9515295891e-4*z+8.3321608736e-3)*z-1.6666654611e-1)*z*r + r
		cos := ((2.443315711809948e-5*z-1.388731625493765e-3)*z+4.166664568298827e-2)*z*z - 0.5*z + 1
		useSin := uint32(j>>1) & 1 // octants 2 and 6 (mod 8): ∓sin r
		bits := math.Float32bits(sin)&-useSin | math.Float32bits(cos)&^-useSin
		bits ^= uint32((j>>2)^(j>>1)) & 1 << 31 // octants 2 and 4: negated
		dst[i] = math.Float32frombits(bits)
	}
}
