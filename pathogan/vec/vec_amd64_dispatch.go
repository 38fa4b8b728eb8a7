//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2

func asmVV(op Op, dst, x, y *float32, n int) {
	switch op {
	case Add:
		addVV(dst, x, y, n)
	case Sub:
		subVV(dst, x, y, n)
	case Mul:
		mulVV(dst, x, y, n)
	case Div:
		divVV(dst, x, y, n)
	}
}

func asmVS(op Op, dst, x *float32, s float32, n int) {
	switch op {
	case Add:
		addVS(dst, x, s, n)
	case Sub:
		subVS(dst, x, s, n)
	case Mul:
		mulVS(dst, x, s, n)
	case Div:
		divVS(dst, x, s, n)
	}
}

func asmSV(op Op, dst, y *float32, s float32, n int) {
	switch op {
	case Add:
		addSV(dst, y, s, n)
	case Sub:
		subSV(dst, y, s, n)
	case Mul:
		mulSV(dst, y, s, n)
	case Div:
		divSV(dst, y, s, n)
	}
}

func asmSelect(dst []float32, cond []bool, t, f []float32, n int) {
	selectVV(&dst[0], &cond[0], &t[0], &f[0], n)
}
