package backend

import "github.com/pathogan-go/pathogan/pathogan/internal/gemm"

// MatmulImpl names the float32 matrix product the Go backend's kernels use, e.g. "own avx512
// kernels", "openblas (libopenblas.so.0)" or "purego" (chosen by $PATHOGAN_BLAS, else the
// fastest found).
func MatmulImpl() string { return gemm.Impl() }

// MatmulImplementations returns the names of the float32 matrix products this machine runs,
// sorted: "purego" (pure Go), each assembly kernel set the CPU supports, and "openblas" when it loads.
func MatmulImplementations() []string { return gemm.ImplementationNames() }

// MatmulPeak measures one matrix product implementation's float32 rate on one core, in GFLOP/s:
// the best of reps n×n×n products on the calling goroutine locked to its thread. It returns an
// error for an unknown name or n, reps < 1. Run it with nothing else on the machine.
func MatmulPeak(name string, n, reps int) (float64, error) { return gemm.Peak(name, n, reps) }
