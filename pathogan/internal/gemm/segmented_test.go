package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

// sameBits fails the test at the first element where got and want differ in any bit.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s: C[%d] = %v, want %v (bit for bit)", what, i, got[i], want[i])
		}
	}
}

// TestSgemmSegmented checks SgemmSegmented bit for bit against Sgemm's narrow kernel on the same
// A copied out, on a padded image read two ways: a forward convolution's patch rows (one
// segment per kernel row) and a kernel gradient's transposed patches (one segment per image row,
// the first and last cut short, against the narrow kernel with A transposed). The image rows give
// blocks of evenly spaced rows and blocks that are not, and leave last rows; B is narrow (the
// eight-column kernel) and 16 or 37 columns wide (the packed kernels, whose 256-step blocks
// cut segments in two); with 16 outputs per image row, tiles of twelve rows that cross image
// rows are three groups of four (the packed kernels' three-group form).
func TestSgemmSegmented(t *testing.T) {
	if !UseSegmented(8, 8, 1) || !UseSegmented(8, 16, 1) {
		t.Skip("no narrow-product kernel here")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ h, w, ch, kh, kw, stride, n int }{
		{8, 40, 8, 7, 7, 1, 5}, {10, 20, 4, 3, 3, 1, 8}, {9, 35, 3, 3, 3, 2, 1}, {5, 24, 8, 1, 1, 1, 8}, {11, 7, 2, 4, 4, 2, 7},
		{6, 18, 8, 3, 3, 1, 8}, {9, 22, 4, 7, 7, 1, 5}, // 16 outputs per image row: tiles in groups of four
	} {
		// The padded image: 2 × h × w pixels of ch channels; outputs cover it with stride.
		oh, ow := (c.h-c.kh)/c.stride+1, (c.w-c.kw)/c.stride+1
		src := randSlice(r, 2*c.h*c.w*c.ch)
		var pixels []int
		for b := range 2 {
			for y := range oh {
				for x := range ow {
					pixels = append(pixels, ((b*c.h+y*c.stride)*c.w+x*c.stride)*c.ch)
				}
			}
		}

		// Forward: a row per output pixel, a segment per kernel row.
		fwd := Segmented{Src: src, Rows: pixels, Step: 1}
		for ky := range c.kh {
			fwd.Segs = append(fwd.Segs, Segment{ky * c.w * c.ch, c.kw * c.ch})
		}
		k := fwd.k()
		flat := make([]float32, len(pixels)*k)
		for i, start := range pixels {
			fwd.copyRange(flat[i*k:(i+1)*k], start, 0, k)
		}
		b := randSlice(r, k*(c.n+3))
		m := len(pixels)
		want, got := make([]float32, m*c.n), make([]float32, m*c.n)
		for i := range got {
			got[i] = float32(math.NaN())
		}
		smallNSgemm(false, m, c.n, k, flat, k, b, c.n+3, want, c.n)
		SgemmSegmented(fwd, c.n, b, c.n+3, got, c.n)
		sameBits(t, "forward", got, want)
		for _, n := range []int{16, 37} { // the packed kernels, with a narrow panel at 37
			bw := randSlice(r, k*n)
			want, got := make([]float32, m*n), make([]float32, m*n)
			Sgemm(false, false, m, n, k, flat, k, bw, n, 0, want, n)
			SgemmSegmented(fwd, n, bw, n, got, n)
			sameBits(t, fmt.Sprintf("forward, %d columns", n), got, want)
			pb := PackB(k, n, bw, n)
			if pb == nil {
				t.Fatalf("PackB(%d, %d) = nil, want a packed B", k, n)
			}
			clear(got)
			SgemmSegmentedPacked(fwd, n, bw, n, pb, got, n)
			pb.Release()
			sameBits(t, fmt.Sprintf("forward, %d columns, B packed beforehand", n), got, want)
		}

		// Kernel gradient: a row per (tap, channel), the contraction over output pixels from
		// the middle of the first image's first row to the middle of the second image's row 1.
		var taps []int
		for ky := range c.kh {
			for kx := range c.kw {
				for ch := range c.ch {
					taps = append(taps, (ky*c.w+kx)*c.ch+ch)
				}
			}
		}
		p0, p1 := ow/2, oh*ow+ow+ow/2
		grad := Segmented{Src: src, Rows: taps, Step: c.stride * c.ch}
		for p := p0; p < p1; {
			n := min(ow-p%ow, p1-p)
			grad.Segs = append(grad.Segs, Segment{pixels[p], n})
			p += n
		}
		kg, mg := p1-p0, len(taps)
		patch := make([]float32, kg*mg) // [pixel][tap, channel], as the taps formulation builds it
		for p := range kg {
			for i, tap := range taps {
				patch[p*mg+i] = src[pixels[p0+p]+tap]
			}
		}
		bg := randSlice(r, kg*c.n)
		want, got = make([]float32, mg*c.n), make([]float32, mg*c.n)
		smallNSgemm(true, mg, c.n, kg, patch, mg, bg, c.n, want, c.n)
		SgemmSegmented(grad, c.n, bg, c.n, got, c.n)
		sameBits(t, "kernel gradient", got, want)
		for _, n := range []int{16, 37} {
			bw := randSlice(r, kg*n)
			want, got := make([]float32, mg*n), make([]float32, mg*n)
			Sgemm(true, false, mg, n, kg, patch, mg, bw, n, 0, want, n)
			SgemmSegmented(grad, n, bw, n, got, n)
			sameBits(t, fmt.Sprintf("kernel gradient, %d columns", n), got, want)
		}
	}
}

// TestLastRowsPlainArithmetic checks that the narrow product's last m%8 rows (kernel8x8nofma)
// round as a plain float32 loop does, bit for bit: one multiply and one add per step, no fused
// multiply-add (which would change most of these sums in their last bits).
func TestLastRowsPlainArithmetic(t *testing.T) {
	if !hasFMA {
		t.Skip("no narrow-product kernel here")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, d := range [][3]int{{13, 5, 392}, {15, 8, 72}, {9, 1, 300}, {23, 7, 1}} {
		m, n, k := d[0], d[1], d[2]
		for _, transA := range []bool{false, true} {
			lda := k
			if transA {
				lda = m
			}
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			c := make([]float32, m*n)
			smallNSgemm(transA, m, n, k, a, lda, b, n, c, n)
			for i := m &^ 7; i < m; i++ {
				want := make([]float32, n)
				if transA {
					rowTimesB(want, a[i:], lda, k, b, n)
				} else {
					rowTimesB(want, a[i*lda:], 1, k, b, n)
				}
				sameBits(t, fmt.Sprintf("%v transA=%v row %d", d, transA, i), c[i*n:(i+1)*n], want)
			}
		}
	}
}

// TestNarrowBcstForms checks the AVX-512VL forms of the narrow kernels (multiply-adds with a
// broadcast operand) bit for bit against the AVX2 forms they replace, on strided and segmented
// A and on rows from their own starts.
func TestNarrowBcstForms(t *testing.T) {
	if !hasBcst {
		t.Skip("no AVX-512VL here")
	}
	r := rand.New(rand.NewPCG(11, 12))
	const k, f = 75, 4
	a, b := randSlice(r, 40*k), randSlice(r, k*8)
	want, got := make([]float32, 64), make([]float32, 64)
	kernel8x8(k, &a[3], 5*k*f, f, &b[0], 8*f, &want[0], 8*f)
	kernel8x8Bcst(k, &a[3], 5*k*f, f, &b[0], 8*f, &got[0], 8*f)
	sameBits(t, "kernel8x8Bcst", got, want)

	segs := []int{0, 25, 3 * k * f, 30, 7 * k * f, 20} // (byte offset, length): 75 steps
	kernel8x8segs(3, &segs[0], &a[1], 4*k*f, 2*f, &b[0], 8*f, &want[0], 8*f)
	kernel8x8segsBcst(3, &segs[0], &a[1], 4*k*f, 2*f, &b[0], 8*f, &got[0], 8*f)
	sameBits(t, "kernel8x8segsBcst", got, want)

	var starts [8]uintptr
	for j := range starts {
		starts[j] = uintptr(unsafe.Pointer(&a[(j*j+2)*k/2]))
	}
	kernel8x8rows(3, &segs[0], &starts, f, &b[0], &want[0], 8*f)
	kernel8x8rowsBcst(3, &segs[0], &starts, f, &b[0], &got[0], 8*f)
	runtime.KeepAlive(a)
	sameBits(t, "kernel8x8rowsBcst", got, want)
}

// rowTimesB sets row = Σ_p a[p·sa]·B[p][0:len(row)] for p < k in order, one float32 multiply
// and one add at a time: the reference for kernel8x8nofma.
func rowTimesB(row, a []float32, sa, k int, b []float32, ldb int) {
	clear(row)
	for p := range k {
		av := a[p*sa]
		brow := b[p*ldb : p*ldb+len(row)]
		for j := range row {
			row[j] += av * brow[j]
		}
	}
}

// TestFourByFour checks which row tiles the three-group kernels take: three groups of four rows
// with one spacing inside every group, wherever each group starts.
func TestFourByFour(t *testing.T) {
	group := func(start, d int) []int { return []int{start, start + d, start + 2*d, start + 3*d} }
	cat := func(gs ...[]int) []int { return append(append(append([]int{}, gs[0]...), gs[1]...), gs[2]...) }
	for _, c := range []struct {
		rows []int
		d    int
		ok   bool
	}{
		{cat(group(0, 8), group(40, 8), group(96, 8)), 8, true},
		{cat(group(0, 8), group(32, 8), group(64, 8)), 8, true}, // evenly spaced throughout
		{cat(group(0, 8), group(40, 9), group(96, 8)), 0, false},
		{cat(group(0, 8), group(40, 8), []int{96, 104, 112, 121}), 0, false},
		{group(0, 8), 0, false},
	} {
		d, ok := fourByFour(c.rows)
		if ok != c.ok || (ok && d != c.d) {
			t.Errorf("fourByFour(%v) = %d, %v; want %d, %v", c.rows, d, ok, c.d, c.ok)
		}
	}
}
