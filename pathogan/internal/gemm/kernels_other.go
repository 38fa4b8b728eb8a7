//go:build !amd64 || purego

package gemm

// kernelSets is empty: this build has no assembly micro-kernels, so the packed product falls
// back to the pure-Go kernel.
var kernelSets []kernelSet
