//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// hasExpBlocks says whether expBlocks can run here.
var hasExpBlocks = cpu.X86.HasAVX2

//go:noescape
func expBlocks(dst, x *float32, n int, limit int32) int
