// Package backend picks the GoMLX backend PathoGAN runs on and makes conv-net training work on
// GoMLX v0.26.0's pure-Go backend ("simplego", GOMLX_BACKEND=go), without changing GoMLX's
// source: it wraps the Go backend (GoBackend), registers gradients in graph.VJPRegistration,
// installs faster float32 executors into simplego, and offers the small graph functions the
// PathoGAN networks are built from (Conv2D, ConvTranspose2D, InstanceNorm, ELU, LeakyReLU),
// which work on XLA and on the Go backend alike.
//
// # Usage
//
//	b, info, err := backend.New() // GOMLX_BACKEND wins; else XLA if a plugin loads; else GoBackend.
//	if err != nil { ... }
//	fmt.Println(info)             // One line: which backend and why. The package prints nothing.
//
// Importing the package (or a model package built on it) changes nothing in GoMLX. The backend
// constructors patch GoMLX, process-wide, through an explicit call (see Install):
// NewGoBackend registers the gradients and installs the kernels, New/NewWithConfig register the
// gradients for XLA and any other backend too (XLA needs them: items 4 and 5 below), and
// RegisterGradients does it for a backend created some other way. Before installing anything they
// check that the binary was built with GoMLX v0.26.0 (package internal/gomlxcheck; "go test"
// binaries record no dependency versions, so there the version is read from the module cache
// path of GoMLX's source) and that the simplego structs the kernels read have exactly the
// fields of the mirrors (names, reflect types, offsets). On a mismatch nothing of the affected
// part is installed: GoMLX's own gradients and executors run, and Info and
// GoBackend.Description say why. Then build graphs with graph/context as usual, using this
// package's Conv2D etc. or plain graph.Convolve.
//
// # What is broken in GoMLX v0.26.0, and what this package does about it
//
// Measured on a 2-core linux/amd64 machine with GoMLX v0.26.0 (go-xla v0.1.4); the tests in
// breakage_test.go check each item on the raw backend.
//
//  1. The Go backend rejects ConvGeneral with nil strides — "ConvGeneralOp: stride[0]=0 must be
//     >= 1 for input shape ..." (and prints a "ConvGeneral: input=..." line to stdout).
//     graph.Convolve passes nil strides unless strides are set (graph/layers' default), so even
//     the forward pass of such a convolution fails. GoBackend fills in strides, paddings and
//     dilations; Conv2D always passes them explicitly.
//  2. Pad and Reverse are not implemented — `sorry, op "Pad" not implemented in SimpleGo yet`.
//     GoMLX's gradient of Slice uses Pad, so any sliced graph cannot be trained, and GoMLX's conv
//     gradient uses Reverse. GoBackend implements Pad (start/end/interior, negative values crop)
//     with Slice/Reshape/Broadcast/Concatenate, and Reverse with one Gather per axis.
//  3. ConvGeneral with input dilation (how GoMLX expresses transposed convolutions and its own
//     strided-conv gradient) panics at run time: "runtime error: index out of range [0] with
//     length 0". GoBackend turns input dilation into interior padding.
//  4. GoMLX's conv gradient (backend-independent graph code: XLA is affected too) is wrong for
//     even-sized kernels — for the 4x4 stride-2 padding-1 convolutions of PatchGAN
//     discriminators the input gradient is off by up to 4.2 on unit-scale data — fails for some
//     explicit paddings ("failed to set up reverse Convolve() for gradient: ... outputDimStart=1 >
//     0"), and refuses input-dilated convolutions ("gradient of Convolve with input dilation not
//     defined"). It is correct for odd kernels with "same" or no padding. This package replaces
//     the ConvGeneral gradient (globally) with one that handles any axes layout, stride, padding
//     (asymmetric and negative), kernel dilation and input dilation; grouped convolutions keep
//     GoMLX's gradient. A transposed convolution's kernel gradient takes the form of a strided
//     convolution's (SetTransposeFilterForm), which XLA's GPU compiler runs as cuDNN's
//     backward-filter convolution; as a convolution of the input-dilated input, the form JAX's
//     rule also takes, XLA runs it on a zero-filled copy of the input with the whole image as
//     the window.
//  5. No gradient is registered for Expm1, Rsqrt, Clamp, Pad, Reverse, ReduceProduct, Round,
//     Floor, Ceil or Identity: "graph has node ... with type "Rsqrt", for which no gradient is
//     defined yet". This package registers exact ones (zero for the piecewise-constant ops).
//     Sign already stops gradients.
//  6. GoMLX's DotGeneral and Dot gradients multiply a broadcast copy of the operands and reduce,
//     materialising a batch x lhsCross x rhsCross x contracted tensor, several times slower than
//     a matmul (BenchmarkDenseGradient; docs/benchmarks.md). This package replaces them
//     (globally) with one DotGeneral plus a transpose per operand.
//  7. The Go backend runs every op one element at a time on one core, far behind PyTorch on
//     the CPU (docs/benchmarks.md, "The Go backend's design"). This package installs its own float32
//     executors into simplego (package internal/kernels; simplego's executor table is reached
//     with go:linkname, after the version and layout checks above). They run only the graphs of
//     GoBackends: a plain simplego backend in the same process keeps simplego's executors. Each
//     graph's per-node plans are released when its executable is finalized or garbage collected:
//     - ConvGeneral: matrix products through package internal/gemm (its own packed,
//     cache-blocked product with AVX-512 or AVX2/FMA kernels; OpenBLAS or pure Go on request, see
//     PATHOGAN_BLAS), on every core. With gemm's own kernels the products read their patches in
//     place from a zero-padded copy of the input; otherwise im2col builds them in cache-sized
//     blocks. Input and kernel dilations and every axes layout, so the gradients' convolutions
//     run there too;
//     - DotGeneral as batched matrix products when its axes allow (else simplego's);
//     - the element-wise ops (with package internal/vec's AVX2 loops): binary arithmetic
//     and Max/Min with broadcasting, Where, Exp, Expm1, Sign and other unary functions, BroadcastInDim,
//     Slice, sum/max/min reductions, on contiguous runs, split over the cores.
//     The step times with them are in docs/benchmarks.md. Sums are split the same way whatever the number of cores, so
//     results do not depend on it. "go:conv=im2col" (strided slices + one matmul in the graph)
//     and "go:conv=native" (simplego's own convolution executor, for every dtype) remain.
//  8. The default executor runs the ops of a graph in parallel when it is the only execution.
//     Each running op holds one of 2×NumCPU worker slots, and DotGeneral (execDotGeneralLarge)
//     then waits for more slots for its own sub-tasks: with 4 large matmuls ready at once on 2
//     cores every slot waits on another and execution deadlocks (reproduced with 8 parallel
//     conv branches, forward+backward; the stacks show 4 goroutines in
//     workersPool.WaitToStart; TestParallelExecutorDoesNotDeadlock does it with eight Erf
//     branches). With an unlimited pool (simplego's parallelism=-1) no op ever waits for a slot.
//     GoBackend therefore defaults to "ops_parallel,parallelism=-1", setting the pool without
//     simplego's stdout line (kernels.UnlimitWorkers), and falls back to "ops_sequential", which
//     never deadlocks either, where it cannot. Running independent ops at the same time keeps
//     both cores busy where single ops are too small to split. On one core (GOMAXPROCS 1 when
//     the backend is made) it defaults to "ops_sequential": there the parallel executor only
//     adds a goroutine per op. "go:ops_sequential" and "go:ops_parallel" (the limited pool)
//     remain.
//  9. There is no transposed convolution with a gradient (item 3), no instance normalization
//     and no ELU: see ConvTranspose2D (zero insertion by one Pad, then a stride-1 conv with the
//     reversed kernel), InstanceNorm and ELU (max(x, exp(min(x,0))-1) through Min, Expm1 and
//     Max). Both, and LeakyReLU, carry the closed form of their gradient (set on their last
//     node with gradients.SetVJP), which takes a half to a third of the tensor passes of
//     differentiating their ops; SetClosedForm(false) differentiates the ops instead.
//  10. backends.New() does not fall back: with the XLA backend compiled in and no PJRT plugin it
//     fails with "no plugins found for backend "xla"" (measured with GOMLX_NO_AUTO_INSTALL=1;
//     without it go-xla first tries to download plugins). New searches for installed plugins itself, loads them by
//     absolute path (which skips go-xla's auto-install), and falls back to GoBackend.
//  11. go-xla v0.1.4, on loading a CUDA plugin with an "nvidia" folder next to it, sets
//     XLA_FLAGS=--xla_gpu_cuda_data_dir to a path from its author's machine. New sets the flag
//     to that nvidia folder (its cuda_nvcc subfolder when that holds nvvm/libdevice) first,
//     unless XLA_FLAGS already sets it.
//
// The XLA backend needs cgo; build with the "noxla" tag to leave it out (New then always
// picks GoBackend and rejects GOMLX_BACKEND=xla).
//
// Gradient registrations read op parameters (axes, paddings) from GoMLX's unexported node
// fields through reflect; they are registered only on GoMLX v0.26.0, and every registered
// gradient is checked against finite differences in the tests.
package backend
