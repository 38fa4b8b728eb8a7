// Package vec holds the float32 element-wise loops of the Go backend's executors: dst = x op y,
// x op s and s op y for op in Add, Sub, Mul, Div, Max, Min. On amd64 machines with AVX2 they
// run eight floats per instruction (vec_amd64.s); elsewhere, and for the last few elements,
// plain Go loops. Both round every operation to float32 the same way, so results are
// bit-identical.
package vec

// Op is an element-wise binary operation.
type Op int

const (
	Add Op = iota // x + y
	Sub           // x - y
	Mul           // x * y
	Div           // x / y
	Max           // max(x, y), as Go's built-in max: NaN if either is NaN, max(-0, +0) = +0
	Min           // min(x, y), as Go's built-in min: NaN if either is NaN, min(-0, +0) = -0
)

// VV sets dst[i] = x[i] op y[i] for i < len(dst); x and y must be at least as long.
func VV(op Op, dst, x, y []float32) {
	n := len(dst)
	x, y = x[:n], y[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		asmVV(op, &dst[0], &x[0], &y[0], done)
	}
	goVV(op, dst[done:], x[done:], y[done:])
}

// VS sets dst[i] = x[i] op s.
func VS(op Op, dst, x []float32, s float32) {
	n := len(dst)
	x = x[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		asmVS(op, &dst[0], &x[0], s, done)
	}
	goVS(op, dst[done:], x[done:], s)
}

// SV sets dst[i] = s op y[i].
func SV(op Op, dst []float32, s float32, y []float32) {
	n := len(dst)
	y = y[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		asmSV(op, &dst[0], &y[0], s, done)
	}
	goSV(op, dst[done:], s, y[done:])
}

func goVV(op Op, dst, x, y []float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	switch op {
	case Add:
		for i := range dst {
			dst[i] = x[i] + y[i]
		}
	case Sub:
		for i := range dst {
			dst[i] = x[i] - y[i]
		}
	case Mul:
		for i := range dst {
			dst[i] = x[i] * y[i]
		}
	case Div:
		for i := range dst {
			dst[i] = x[i] / y[i]
		}
	case Max:
		for i := range dst {
			dst[i] = max(x[i], y[i])
		}
	case Min:
		for i := range dst {
			dst[i] = min(x[i], y[i])
		}
	}
}

func goVS(op Op, dst, x []float32, s float32) {
	x = x[:len(dst)]
	switch op {
	case Add:
		for i := range dst {
			dst[i] = x[i] + s
		}
	case Sub:
		for i := range dst {
			dst[i] = x[i] - s
		}
	case Mul:
		for i := range dst {
			dst[i] = x[i] * s
		}
	case Div:
		for i := range dst {
			dst[i] = x[i] / s
		}
	case Max:
		for i := range dst {
			dst[i] = max(x[i], s)
		}
	case Min:
		for i := range dst {
			dst[i] = min(x[i], s)
		}
	}
}

func goSV(op Op, dst []float32, s float32, y []float32) {
	y = y[:len(dst)]
	switch op {
	case Add:
		for i := range dst {
			dst[i] = s + y[i]
		}
	case Sub:
		for i := range dst {
			dst[i] = s - y[i]
		}
	case Mul:
		for i := range dst {
			dst[i] = s * y[i]
		}
	case Div:
		for i := range dst {
			dst[i] = s / y[i]
		}
	case Max:
		for i := range dst {
			dst[i] = max(s, y[i])
		}
	case Min:
		for i := range dst {
			dst[i] = min(s, y[i])
		}
	}
}

// Select sets dst[i] = t[i] where cond[i], else f[i] (GoMLX's Where with full-size operands).
func Select(dst []float32, cond []bool, t, f []float32) {
	n := len(dst)
	cond, t, f = cond[:n], t[:n], f[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		asmSelect(dst, cond, t, f, done)
	}
	goSelect(dst[done:], cond[done:], t[done:], f[done:])
}

func goSelect(dst []float32, cond []bool, t, f []float32) {
	cond, t, f = cond[:len(dst)], t[:len(dst)], f[:len(dst)]
	for i := range dst {
		if cond[i] {
			dst[i] = t[i]
		} else {
			dst[i] = f[i]
		}
	}
}
