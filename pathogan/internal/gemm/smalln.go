package gemm

import "sync"

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
// time; n is padded to 8 through a pooled, zero-padded copy of B and an eight-row tile of C when
// it is narrower, and the last m%8 rows are done in Go.
func smallNSgemm(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	const f = 4 // bytes per float32
	sAi, sAk := lda*f, f
	if transA {
		sAi, sAk = f, lda*f
	}
	m8 := m &^ 7
	if n == smallN {
		for i := 0; i < m8; i += 8 {
			aOff := i * lda
			if transA {
				aOff = i
			}
			kernel8x8(k, &a[aOff], sAi, sAk, &b[0], ldb*f, &c[i*ldc], ldc*f)
		}
	} else if m8 > 0 {
		// B padded to eight columns with zeros, and one 8×8 tile of C whose first n columns are
		// copied out element by element (a copy call costs more than moving a few floats).
		bp := narrowPool.Get().(*[]float32)
		bb := grow(*bp, k*smallN)
		for p := range k {
			row := bb[p*smallN : (p+1)*smallN]
			copy(row[:n], b[p*ldb:p*ldb+n])
			clear(row[n:])
		}
		var tile [8 * smallN]float32
		for i := 0; i < m8; i += 8 {
			aOff := i * lda
			if transA {
				aOff = i
			}
			kernel8x8(k, &a[aOff], sAi, sAk, &bb[0], smallN*f, &tile[0], smallN*f)
			for r := range 8 {
				dst := c[(i+r)*ldc : (i+r)*ldc+n]
				src := tile[r*smallN : r*smallN+n]
				for j := range dst {
					dst[j] = src[j]
				}
			}
		}
		*bp = bb
		narrowPool.Put(bp)
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

// narrowPool holds smallNSgemm's zero-padded copies of a narrow B.
var narrowPool = sync.Pool{New: func() any { return new([]float32) }}
