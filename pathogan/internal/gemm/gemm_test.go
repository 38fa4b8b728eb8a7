package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naive is the reference C = op(A)·op(B) + beta·C.
func naive(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			old := float64(0)
			if beta != 0 {
				old = float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(s + old)
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// TestSgemm checks every implementation this machine runs (Sgemm as configured, each assembly
// kernel set the CPU has, OpenBLAS when loaded, the narrow kernel and pure Go) against a float64 loop for
// every transpose combination, padded leading dimensions, beta 0 over NaN and beta 1.
func TestSgemm(t *testing.T) {
	t.Logf("implementation: %s; small-n kernel: %v", Impl(), hasFMA)
	r := rand.New(rand.NewPCG(1, 2))
	kernels := Implementations()
	kernels["Sgemm"] = Sgemm
	kernels["smallN"] = func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		if useSmallN(tB, m, n, k, beta) {
			smallNSgemm(tA, m, n, k, a, lda, b, ldb, c, ldc)
			return
		}
		GoSgemm(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	}
	for name, f := range kernels {
		// The last shapes span several kc and nc blocks, with edge rows and columns.
		for _, dims := range [][3]int{{1, 1, 1}, {3, 5, 7}, {37, 8, 72}, {130, 33, 300}, {5, 4, 0}, {29, 5, 40}, {64, 16, 9}, {8, 12, 3}, {17, 1, 200}, {49, 300, 520}, {24, 64, 257}, {13, 17, 31}} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for _, beta := range []float32{0, 1} {
						m, n, k := dims[0], dims[1], dims[2]
						lda, ldb, ldc := k+3, n+2, n+1
						aLen, bLen := m*lda, k*ldb
						if tA {
							lda = m + 3
							aLen = k * lda
						}
						if tB {
							ldb = k + 2
							bLen = n * ldb
						}
						a, b := randSlice(r, max(aLen, 1)), randSlice(r, max(bLen, 1))
						c := randSlice(r, m*ldc)
						if beta == 0 {
							for i := range c {
								c[i] = float32(math.NaN())
							}
						}
						want := append([]float32(nil), c...)
						naive(tA, tB, m, n, k, a, lda, b, ldb, beta, want, ldc)
						f(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
						for i := range m {
							for j := range n {
								got, w := c[i*ldc+j], want[i*ldc+j]
								if math.Abs(float64(got-w)) > 1e-4*math.Sqrt(float64(k+1))*4 {
									t.Fatalf("%s tA=%v tB=%v beta=%v m,n,k=%v: C[%d,%d] = %v, want %v", name, tA, tB, beta, dims, i, j, got, w)
								}
							}
						}
						// The padding columns of C are untouched.
						for i := range m {
							for j := n; j < ldc; j++ {
								if w := want[i*ldc+j]; c[i*ldc+j] != w && !(math.IsNaN(float64(w)) && math.IsNaN(float64(c[i*ldc+j]))) {
									t.Fatalf("%s wrote outside C at [%d,%d]", name, i, j)
								}
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkSgemm times each implementation (and Sgemm as configured) on one im2col-shaped
// product, 16384 output pixels × 8 channels × 72 (3×3×8), a wider one and a square one (one
// core: run with -cpu 1).
func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	impls := Implementations()
	impls["Sgemm"] = Sgemm
	for _, d := range [][3]int{{16384, 8, 72}, {4096, 64, 576}, {512, 512, 512}} {
		m, n, k := d[0], d[1], d[2]
		x, y, z := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for name, f := range impls {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, n, k), func(b *testing.B) {
				for b.Loop() {
					f(false, false, m, n, k, x, k, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkSmallN compares the narrow-product kernel with the BLAS on the shapes of a base-8
// network's convolutions (both orientations of A).
func BenchmarkSmallN(b *testing.B) {
	load()
	if !hasFMA || blasSgemm == 0 {
		b.Skip("needs AVX2/FMA and a BLAS")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range [][3]int{{16384, 8, 72}, {16384, 5, 392}, {2048, 8, 196}} {
		m, n, k := d[0], d[1], d[2]
		km, c := randSlice(r, k*n), make([]float32, m*n)
		for _, transA := range []bool{false, true} {
			lda := k
			if transA {
				lda = m
			}
			a := randSlice(r, m*k)
			for _, kernel := range []string{"blas", "smalln"} {
				b.Run(fmt.Sprintf("%s/transA=%v/%dx%dx%d", kernel, transA, m, n, k), func(b *testing.B) {
					for b.Loop() {
						if kernel == "blas" {
							blasCall(transA, false, m, n, k, a, lda, km, n, 0, c, n)
						} else {
							smallNSgemm(transA, m, n, k, a, lda, km, n, c, n)
						}
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// networkShapes are the products that carry most of the small preset's training step (64 px,
// base 8, batch 4), with their share of its GEMM FLOPs, as the Go backend's kernels call them
// (each convolution split into row blocks): the residual blocks' 3×3 convolutions at 32
// channels forward and backward (32.6 %), their weight gradients (transA, 16.3 %), and the
// other layers' most frequent shapes.
var networkShapes = []struct {
	transA  bool
	m, n, k int
}{
	{false, 256, 32, 288}, {true, 288, 32, 256}, {false, 43, 32, 1568}, {false, 456, 8, 144},
	{false, 205, 16, 288}, {true, 392, 5, 668}, {false, 86, 32, 576},
}

// BenchmarkNetworkShapes times each implementation on networkShapes (one core: run with
// -cpu 1).
func BenchmarkNetworkShapes(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range networkShapes {
		lda := s.k
		if s.transA {
			lda = s.m
		}
		x, y, z := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
		impls := Implementations()
		if s.n <= smallN && hasFMA {
			impls["smalln"] = func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				smallNSgemm(tA, m, n, k, a, lda, b, ldb, c, ldc)
			}
		}
		for name, f := range impls {
			b.Run(fmt.Sprintf("%s/transA=%v/%dx%dx%d", name, s.transA, s.m, s.n, s.k), func(b *testing.B) {
				for b.Loop() {
					f(s.transA, false, s.m, s.n, s.k, x, lda, y, s.n, 0, z, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestPeak: the peak measurement runs each implementation and refuses unknown names.
func TestPeak(t *testing.T) {
	for _, name := range ImplementationNames() {
		g, err := Peak(name, 64, 2)
		if err != nil || !(g > 0) {
			t.Errorf("Peak(%s) = %v, %v; want a positive rate", name, g, err)
		}
	}
	if _, err := Peak("mkl", 64, 1); err == nil || !strings.Contains(err.Error(), "mkl") {
		t.Errorf("Peak(mkl) error %v, want one naming it", err)
	}
}
