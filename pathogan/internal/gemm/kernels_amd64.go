//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run gen_kernels.go

// The micro-kernels of kernels_amd64.s (see gen_kernels.go).

//go:noescape
func kernelAVX512x32(k int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX512x32_segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX512x32_segs3(nseg int, segs *int, a0, a1, a2 *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX512x16(k int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX512x16_segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX512x16_segs3(nseg int, segs *int, a0, a1, a2 *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX2x16(k int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX2x16_segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX2x8(k int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

//go:noescape
func kernelAVX2x8_segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

// kernelSets lists the micro-kernel pairs this build has, widest instruction set first, each
// with whether this CPU can run it.
var kernelSets = []kernelSet{
	{name: "avx512", ok: cpu.X86.HasAVX512F, mr: 12,
		wide:   tile{32, kernelAVX512x32, kernelAVX512x32_segs, kernelAVX512x32_segs3},
		narrow: tile{16, kernelAVX512x16, kernelAVX512x16_segs, kernelAVX512x16_segs3}},
	{name: "avx2", ok: cpu.X86.HasAVX2 && cpu.X86.HasFMA, mr: 6,
		wide: tile{16, kernelAVX2x16, kernelAVX2x16_segs, nil}, narrow: tile{8, kernelAVX2x8, kernelAVX2x8_segs, nil}},
}
