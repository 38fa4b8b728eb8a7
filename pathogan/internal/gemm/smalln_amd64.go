//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// hasFMA says whether kernel8x8 can run here.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kernel8x8(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8nofma(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernel8x8rows(nseg int, segs *int, rows *[8]uintptr, sAk int, b *float32, c *float32, ldc int)
