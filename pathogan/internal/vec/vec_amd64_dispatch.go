//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2

// The assembly loops of each form, indexed by Op.
var (
	vvLoops = [...]func(dst, x, y *float32, n int){Add: addVV, Sub: subVV, Mul: mulVV, Div: divVV, Max: maxVV, Min: minVV}
	vsLoops = [...]func(dst, x *float32, s float32, n int){Add: addVS, Sub: subVS, Mul: mulVS, Div: divVS, Max: maxVS, Min: minVS}
	// Go's max and min are commutative (±0 and NaN included), so s op y is y op s.
	svLoops = [...]func(dst, y *float32, s float32, n int){Add: addSV, Sub: subSV, Mul: mulSV, Div: divSV, Max: maxVS, Min: minVS}
)

func asmVV(op Op, dst, x, y *float32, n int) { vvLoops[op](dst, x, y, n) }

func asmVS(op Op, dst, x *float32, s float32, n int) { vsLoops[op](dst, x, s, n) }

func asmSV(op Op, dst, y *float32, s float32, n int) { svLoops[op](dst, y, s, n) }

func asmSelect(dst []float32, cond []bool, t, f []float32, n int) {
	selectVV(&dst[0], &cond[0], &t[0], &f[0], n)
}
