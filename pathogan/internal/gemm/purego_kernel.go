package gemm

// goSgemm is the pure-Go kernel: row-by-row axpy updates (no transpose of B) or dot products
// (B transposed), blocked over k so that a block of B stays in cache.
func goSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scale(m, n, beta, c, ldc)
	aAt := func(i, p int) float32 { return a[i*lda+p] }
	if transA {
		aAt = func(i, p int) float32 { return a[p*lda+i] }
	}
	if transB {
		// C[i,j] += Σ_p A[i,p]·B[j,p]
		aRow := make([]float32, k)
		for i := range m {
			for p := range k {
				aRow[p] = aAt(i, p)
			}
			cRow := c[i*ldc : i*ldc+n]
			for j := range n {
				cRow[j] += dot(aRow, b[j*ldb:j*ldb+k])
			}
		}
		return
	}
	const kBlock = 256
	for p0 := 0; p0 < k; p0 += kBlock {
		p1 := min(p0+kBlock, k)
		for i := range m {
			cRow := c[i*ldc : i*ldc+n]
			for p := p0; p < p1; p++ {
				if s := aAt(i, p); s != 0 {
					axpy(s, b[p*ldb:p*ldb+n], cRow)
				}
			}
		}
	}
}

// axpy adds s·x to y (len(y) == len(x)).
func axpy(s float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += s * x[i]
		y[i+1] += s * x[i+1]
		y[i+2] += s * x[i+2]
		y[i+3] += s * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += s * x[i]
	}
}

// dot returns Σ x[i]·y[i] (len(y) >= len(x)).
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return s0 + s1 + s2 + s3
}
