package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

var openblasOnce sync.Once

// Func is the signature of Sgemm and of each implementation.
type Func func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// Implementations returns every product this machine runs, by name, whatever PATHOGAN_BLAS
// says: "purego" (pure Go), each assembly kernel set the CPU runs ("avx512", "avx2"), and
// "openblas" when one of the usual OpenBLAS files loads.
func Implementations() map[string]Func {
	load()
	impls := map[string]Func{"purego": GoSgemm}
	for i := range kernelSets {
		if ks := &kernelSets[i]; ks.ok {
			impls[ks.name] = func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				if !trivial(m, n, k, beta, c, ldc) {
					packedSgemm(ks, tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
				}
			}
		}
	}
	// OpenBLAS is loaded here if the configured choice did not load it; Sgemm's choice stays.
	openblasOnce.Do(func() {
		for _, name := range candidates {
			if blasSgemm != 0 || loadBLAS(name) == nil {
				return
			}
		}
	})
	if blasSgemm != 0 {
		impls["openblas"] = func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			if !trivial(m, n, k, beta, c, ldc) {
				blasCall(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
			}
		}
	}
	return impls
}

// ImplementationNames returns Implementations' names, sorted.
func ImplementationNames() []string {
	var names []string
	for n := range Implementations() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Peak measures an implementation's float32 rate on one core: the best of reps n×n×n products
// (C = A·B), in GFLOP/s, on the calling goroutine locked to its thread. It is the machine's
// limit to compare a training step's rate with; run it with nothing else on the machine.
func Peak(name string, n, reps int) (float64, error) {
	f, ok := Implementations()[name]
	if !ok {
		return 0, fmt.Errorf("matrix product %q: not available here (have %v)", name, ImplementationNames())
	}
	if n < 1 || reps < 1 {
		return 0, fmt.Errorf("peak: size %d, reps %d: want >= 1", n, reps)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	f(false, false, n, n, n, a, n, b, n, 0, c, n) // warm caches and pools
	var times []float64
	for range reps {
		t0 := time.Now()
		f(false, false, n, n, n, a, n, b, n, 0, c, n)
		times = append(times, time.Since(t0).Seconds())
	}
	return 2 * float64(n) * float64(n) * float64(n) / slices.Min(times) / 1e9, nil
}
