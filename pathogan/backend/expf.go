package backend

import "math"

// expf is e^x in float32 (Cephes' expf: x = n·ln2 + r with |r| <= ln2/2 and a degree-6
// polynomial for e^r; about 1 ulp). It is several times faster than math.Exp through float64.
func expf(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654: // The result would be subnormal: leave it to math.Exp.
		return float32(math.Exp(float64(x)))
	}
	n := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	r := x - n*0.693359375 - n*-2.12194440e-4
	z := r * r
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	e := p*z + r + 1
	return e * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// expm1f is e^x - 1 in float32: a Taylor polynomial for |x| < 0.5 (where e^x - 1 would cancel)
// and expf otherwise.
func expm1f(x float32) float32 {
	if x > -0.5 && x < 0.5 {
		// x + x²/2! + ... + x⁹/9!, truncation below 1e-9 relative.
		return x * (1 + x*(1.0/2+x*(1.0/6+x*(1.0/24+x*(1.0/120+x*(1.0/720+x*(1.0/5040+x*(1.0/40320+x*(1.0/362880)))))))))
	}
	return expf(x) - 1
}

// b2f is 1 for true and 0 for false.
func b2f(b bool) float32 {
	var v float32
	if b {
		v = 1
	}
	return v
}
