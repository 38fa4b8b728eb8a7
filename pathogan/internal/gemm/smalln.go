package gemm

// smallN is the widest C for which Sgemm uses its own AVX2/FMA kernel instead of the BLAS:
// general kernels, OpenBLAS's included, reach a small share of their rate on products with 5 or
// 8 columns (the narrow convolutions of a base-8 network), where eight rows of C in eight
// registers, one broadcast and one fused multiply-add per element of A, do about twice as well
// (docs/benchmarks.md, "The Go backend's design").
const smallN = 8

// useSmallN says whether smallNSgemm takes this product.
func useSmallN(transB bool, m, n, k int, beta float32) bool {
	return hasFMA && !transB && beta == 0 && n <= smallN && m >= 8 && k >= 1
}

// smallNSgemm computes C = op(A)·B (no transpose of B, beta 0) eight rows and eight columns at a
// time; n is padded to a multiple of 8 through scratch copies of B and C when needed, and the
// last m%8 rows are done in Go.
func smallNSgemm(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	const f = 4 // bytes per float32
	sAi, sAk := lda*f, f
	if transA {
		sAi, sAk = f, lda*f
	}
	n8 := (n + 7) &^ 7
	bb, bStride := b, ldb
	if n != n8 {
		bb = make([]float32, k*n8)
		for p := range k {
			copy(bb[p*n8:p*n8+n], b[p*ldb:p*ldb+n])
		}
		bStride = n8
	}
	cc, cStride := c, ldc
	if n != n8 {
		cc = make([]float32, 8*n8)
		cStride = n8
	}
	m8 := m &^ 7
	for i := 0; i < m8; i += 8 {
		aOff := i * lda
		if transA {
			aOff = i
		}
		for j := 0; j < n8; j += 8 {
			if n == n8 {
				kernel8x8(k, &a[aOff], sAi, sAk, &bb[j], bStride*f, &cc[i*cStride+j], cStride*f)
				continue
			}
			kernel8x8(k, &a[aOff], sAi, sAk, &bb[j], bStride*f, &cc[j], cStride*f)
		}
		if n != n8 {
			for r := range 8 {
				copy(c[(i+r)*ldc:(i+r)*ldc+n], cc[r*cStride:r*cStride+n])
			}
		}
	}
	// The last rows.
	for i := m8; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		clear(row)
		for p := range k {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			brow := b[p*ldb : p*ldb+n]
			for j := range row {
				row[j] += av * brow[j]
			}
		}
	}

}
