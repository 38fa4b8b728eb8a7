// Package kernels holds float32 executors for GoMLX v0.26.0's pure-Go backend (simplego):
// ConvGeneral as blocked im2col and matrix products (package internal/gemm; with gemm's own
// kernels the products read the patches in place from a padded input, and those with at most
// eight output channels run sixteen pixels to an AVX-512 register: columns.go; input-dilated
// ones, such as transposed convolutions, as one undilated convolution per output phase:
// phases.go), DotGeneral as batched matrix products, and the frequent element-wise ops (with
// float32 exp, tanh, logistic, log, log1p and cos: expf.go, mathf.go), GreaterThan, reductions,
// Slice and BroadcastInDim on contiguous runs with package internal/vec's loops, split over the
// cores.
//
// Nothing happens at import. Install puts the executors into simplego's executor table (after
// checking the GoMLX version and the layouts of the structs read); Adopt then selects the
// builders whose nodes they run. The pathogan Go backend (package backend) does both; every
// other simplego backend keeps simplego's executors.
package kernels
