package gemm

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// columnsOn says whether SgemmColumns' kernels run: where the CPU has AVX-512 and
// PATHOGAN_BLAS did not ask for the AVX2 kernels (narrowAVX2).
var columnsOn = hasColumns

// ColumnsOK says whether SgemmColumns takes an m×n product here: AVX-512, n at most 8 and m a
// multiple of 16.
func ColumnsOK(m, n int) bool {
	load()
	return columnsOn && !pureGo && n >= 1 && n <= smallN && m >= 16 && m%16 == 0
}

// SgemmColumns computes C = A·B (m×n, beta 0) for an m×k matrix A given by its columns: column
// p is the m consecutive floats from src[a.cols[p]]. B is k×n with leading dimension ldb, C m×n
// with ldc. It needs ColumnsOK(m, n).
//
// A convolution's patch matrix is one when its input is laid out with the image columns
// innermost: the rows of one output row of pixels, for one tap and channel, are consecutive.
// Each element of C is Σ_p A(i,p)·B(p,j) summed from zero in order of p with one fused
// multiply-add per step, which is what the narrow product (SgemmSegmented with n ≤ 8) computes
// for the rows of its blocks of eight, so on the same matrix the two agree bit for bit there;
// SgemmColumnsNoFMA does its last rows. The kernels hold sixteen rows of a column of C per
// AVX-512 register, where the narrow product holds eight columns of a row per AVX2 register.
func SgemmColumns(m, n int, src []float32, a Columns, b []float32, ldb int, c []float32, ldc int) {
	sgemmColumns(m, n, src, a, b, ldb, c, ldc, false)
}

// SgemmColumnsNoFMA is SgemmColumns for sixteen rows with a multiply, then an add, per step
// instead of a fused multiply-add: the arithmetic of the narrow product's last rows in each of
// its blocks (kernel8x8nofma), so with SgemmColumns for the other rows a convolution gets the
// narrow product's result bit for bit.
func SgemmColumnsNoFMA(n int, src []float32, a Columns, b []float32, ldb int, c []float32, ldc int) {
	sgemmColumns(16, n, src, a, b, ldb, c, ldc, true)
}

func sgemmColumns(m, n int, src []float32, a Columns, b []float32, ldb int, c []float32, ldc int, nofma bool) {
	k := len(a.cols)
	if !ColumnsOK(m, n) {
		panic(fmt.Sprintf("gemm: SgemmColumns of %d×%d without its kernels", m, n))
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	if a.lo < 0 || a.hi+m > len(src) {
		panic("gemm: a column reaches outside its source")
	}
	if (k-1)*ldb+n > len(b) || (m-1)*ldc+n > len(c) {
		panic("gemm: B or C too short")
	}
	tp := tilePool.Get().(*[16 * 4 * smallN]float32)
	defer tilePool.Put(tp)
	tile := tp[:]
	for i0 := 0; i0 < m; {
		// The widest kernel that the rows left fill: four vectors of sixteen, then two, then one.
		v := 4
		for v > 1 && (m-i0 < 16*v || columnKernels[v][n] == nil) {
			v /= 2
		}
		kern := columnKernels[v][n]
		if nofma {
			v, kern = 1, columnKernelsNoFMA[n]
		}
		rows := 16 * v
		kern(k, &a.cols[0], &src[i0], &b[0], ldb*4, &tile[0])
		// Row i of the tile's columns to row i0+i of C (checked above: (m-1)·ldc+n ≤ len(c)).
		base := unsafe.Pointer(&c[i0*ldc])
		for j := range n {
			col := tile[j*rows : (j+1)*rows]
			for i, x := range col {
				*(*float32)(unsafe.Add(base, (i*ldc+j)*4)) = x
			}
		}
		i0 += rows
	}
	runtime.KeepAlive(c)
}

// tilePool holds the kernels' output tiles (a tile on the stack would grow the stacks of the
// short-lived goroutines that run ops).
var tilePool = sync.Pool{New: func() any { return new([16 * 4 * smallN]float32) }}

// Columns is the columns argument of SgemmColumns: column p of A starts at src[cols[p]].
type Columns struct {
	cols   []int
	lo, hi int // the least and greatest offset
}

// NewColumns returns the Columns that start at these offsets (at least one).
func NewColumns(cols []int) Columns {
	a := Columns{cols: cols, lo: cols[0], hi: cols[0]}
	for _, off := range cols {
		a.lo, a.hi = min(a.lo, off), max(a.hi, off)
	}
	return a
}
