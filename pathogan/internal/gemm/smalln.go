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
// time with kernel8x8, and the last m%8 rows with kernel8x8nofma.
func smallNSgemm(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	const f = 4 // bytes per float32
	sAi, sAk := lda*f, f
	if transA {
		sAi, sAk = f, lda*f
	}
	eightRows(m, n, k, b, ldb, c, ldc, func(i int, bp *float32, bStride int, cp *float32, cStride int) {
		aOff := i * lda
		if transA {
			aOff = i
		}
		k8(k, &a[aOff], sAi, sAk, bp, bStride, cp, cStride)
	}, func(dst []float32, i int) {
		for p := range dst {
			if transA {
				dst[p] = a[p*lda+i]
			} else {
				dst[p] = a[i*lda+p]
			}
		}
	})
}

// eightRows calls kern for each block of eight rows i..i+7 of C (i < m&^7) with B and C's block
// as kernel8x8 takes them (pointers and byte strides). When n is narrower than eight, B is padded
// with zeros into a pooled copy and kern writes an 8×8 tile whose first n columns are then moved
// into C element by element (a copy call costs more than moving a few floats).
//
// The last m%8 rows are copied out by row (dst gets row i's k values) into a zero-padded 8×k
// block and computed by kernel8x8nofma: one multiply and one add per step, as a plain float32
// loop over p computes them (the Go fallback did), not fused like the blocks above.
func eightRows(m, n, k int, b []float32, ldb int, c []float32, ldc int, kern func(i int, b *float32, ldb int, c *float32, ldc int), row func(dst []float32, i int)) {
	const f = 4 // bytes per float32
	m8 := m &^ 7
	bp, bStride := b, ldb
	var pooled *[]float32
	if n != smallN {
		pooled = narrowPool.Get().(*[]float32)
		bb := grow(*pooled, k*smallN)
		for p := range k {
			row := bb[p*smallN : (p+1)*smallN]
			copy(row[:n], b[p*ldb:p*ldb+n])
			clear(row[n:])
		}
		*pooled = bb
		bp, bStride = bb, smallN
	}
	var tile [8 * smallN]float32
	put := func(i, rows int) {
		for r := range rows {
			dst := c[(i+r)*ldc : (i+r)*ldc+n]
			src := tile[r*smallN : r*smallN+n]
			for j := range dst {
				dst[j] = src[j]
			}
		}
	}
	for i := 0; i < m8; i += 8 {
		if n == smallN {
			kern(i, &bp[0], bStride*f, &c[i*ldc], ldc*f)
			continue
		}
		kern(i, &bp[0], bStride*f, &tile[0], smallN*f)
		put(i, 8)
	}
	if rows := m - m8; rows > 0 {
		ap := lastPool.Get().(*[]float32)
		blk := grow(*ap, 8*k)
		for r := range 8 {
			if r < rows {
				row(blk[r*k:(r+1)*k], m8+r)
			} else {
				clear(blk[r*k : (r+1)*k])
			}
		}
		kernel8x8nofma(k, &blk[0], k*f, f, &bp[0], bStride*f, &tile[0], smallN*f)
		put(m8, rows)
		*ap = blk
		lastPool.Put(ap)
	}
	if pooled != nil {
		narrowPool.Put(pooled)
	}
}

// lastPool holds eightRows' copies of the last rows.
var lastPool = sync.Pool{New: func() any { return new([]float32) }}

// narrowPool holds eightRows' zero-padded copies of a narrow B.
var narrowPool = sync.Pool{New: func() any { return new([]float32) }}
