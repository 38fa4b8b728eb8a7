// AVX2/FMA kernel for products with few columns (see smalln.go).

//go:build amd64 && !purego

#include "textflag.h"

// func kernel8x8(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)
//
// C[i][0:8] = Σ_p A(i,p)·B[p][0:8] for the 8 rows i < 8, where A(i,p) is at a + i·sAi + p·sAk
// and B[p] at b + p·ldb (all strides in bytes), and C[i] at c + i·ldc.
TEXT ·kernel8x8(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ sAi+16(FP), R8
	MOVQ sAk+24(FP), R9
	MOVQ b+32(FP), DX
	MOVQ ldb+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R14
	LEAQ (R8)(R8*2), R11 // 3·sAi
	LEAQ (R8)(R8*4), R12 // 5·sAi
	LEAQ (R11)(R8*4), R13 // 7·sAi
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
loop:
	VMOVUPS (DX), Y8
	VBROADCASTSS (SI), Y9
	VFMADD231PS Y8, Y9, Y0
	VBROADCASTSS (SI)(R8*1), Y10
	VFMADD231PS Y8, Y10, Y1
	VBROADCASTSS (SI)(R8*2), Y11
	VFMADD231PS Y8, Y11, Y2
	VBROADCASTSS (SI)(R11*1), Y12
	VFMADD231PS Y8, Y12, Y3
	VBROADCASTSS (SI)(R8*4), Y13
	VFMADD231PS Y8, Y13, Y4
	VBROADCASTSS (SI)(R12*1), Y14
	VFMADD231PS Y8, Y14, Y5
	VBROADCASTSS (SI)(R11*2), Y15
	VFMADD231PS Y8, Y15, Y6
	VBROADCASTSS (SI)(R13*1), Y9
	VFMADD231PS Y8, Y9, Y7
	ADDQ R9, SI
	ADDQ R10, DX
	DECQ CX
	JNZ loop
	VMOVUPS Y0, (DI)
	ADDQ R14, DI
	VMOVUPS Y1, (DI)
	ADDQ R14, DI
	VMOVUPS Y2, (DI)
	ADDQ R14, DI
	VMOVUPS Y3, (DI)
	ADDQ R14, DI
	VMOVUPS Y4, (DI)
	ADDQ R14, DI
	VMOVUPS Y5, (DI)
	ADDQ R14, DI
	VMOVUPS Y6, (DI)
	ADDQ R14, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET


// func kernel8x8nofma(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)
//
// kernel8x8 with one multiply and one add per element and step instead of a fused
// multiply-add: the arithmetic, rounding for rounding, of a plain float32 loop
// c[i][j] += a(i,p)·b[p][j] over p in order (rowTimesB), eight rows at once.
TEXT ·kernel8x8nofma(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ sAi+16(FP), R8
	MOVQ sAk+24(FP), R9
	MOVQ b+32(FP), DX
	MOVQ ldb+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R14
	LEAQ (R8)(R8*2), R11 // 3·sAi
	LEAQ (R8)(R8*4), R12 // 5·sAi
	LEAQ (R11)(R8*4), R13 // 7·sAi
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
nofmaloop:
	VMOVUPS (DX), Y8
	VBROADCASTSS (SI), Y9
	VMULPS Y8, Y9, Y9
	VADDPS Y9, Y0, Y0
	VBROADCASTSS (SI)(R8*1), Y10
	VMULPS Y8, Y10, Y10
	VADDPS Y10, Y1, Y1
	VBROADCASTSS (SI)(R8*2), Y11
	VMULPS Y8, Y11, Y11
	VADDPS Y11, Y2, Y2
	VBROADCASTSS (SI)(R11*1), Y12
	VMULPS Y8, Y12, Y12
	VADDPS Y12, Y3, Y3
	VBROADCASTSS (SI)(R8*4), Y13
	VMULPS Y8, Y13, Y13
	VADDPS Y13, Y4, Y4
	VBROADCASTSS (SI)(R12*1), Y14
	VMULPS Y8, Y14, Y14
	VADDPS Y14, Y5, Y5
	VBROADCASTSS (SI)(R11*2), Y15
	VMULPS Y8, Y15, Y15
	VADDPS Y15, Y6, Y6
	VBROADCASTSS (SI)(R13*1), Y9
	VMULPS Y8, Y9, Y9
	VADDPS Y9, Y7, Y7
	ADDQ R9, SI
	ADDQ R10, DX
	DECQ CX
	JNZ nofmaloop
	VMOVUPS Y0, (DI)
	ADDQ R14, DI
	VMOVUPS Y1, (DI)
	ADDQ R14, DI
	VMOVUPS Y2, (DI)
	ADDQ R14, DI
	VMOVUPS Y3, (DI)
	ADDQ R14, DI
	VMOVUPS Y4, (DI)
	ADDQ R14, DI
	VMOVUPS Y5, (DI)
	ADDQ R14, DI
	VMOVUPS Y6, (DI)
	ADDQ R14, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET

// func kernel8x8segs(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)
//
// kernel8x8 with A(i,p) read in nseg segments: segs holds (byte offset, length) pairs, and the
// steps p of segment s read a + off_s + i·sAi + j·sAk for j < length_s. The segments' steps run
// in order, B's rows follow one another and the accumulators stay in registers across the
// segments, so C is what kernel8x8 gives on the same A copied out row by row.
TEXT ·kernel8x8segs(SB), NOSPLIT, $0-72
	MOVQ nseg+0(FP), BX
	MOVQ segs+8(FP), AX
	MOVQ a+16(FP), R15
	MOVQ sAi+24(FP), R8
	MOVQ sAk+32(FP), R9
	MOVQ b+40(FP), DX
	MOVQ ldb+48(FP), R10
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), R14
	LEAQ (R8)(R8*2), R11 // 3·sAi
	LEAQ (R8)(R8*4), R12 // 5·sAi
	LEAQ (R11)(R8*4), R13 // 7·sAi
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
segment:
	MOVQ (AX), SI
	ADDQ R15, SI
	MOVQ 8(AX), CX
	ADDQ $16, AX
step:
	VMOVUPS (DX), Y8
	VBROADCASTSS (SI), Y9
	VFMADD231PS Y8, Y9, Y0
	VBROADCASTSS (SI)(R8*1), Y10
	VFMADD231PS Y8, Y10, Y1
	VBROADCASTSS (SI)(R8*2), Y11
	VFMADD231PS Y8, Y11, Y2
	VBROADCASTSS (SI)(R11*1), Y12
	VFMADD231PS Y8, Y12, Y3
	VBROADCASTSS (SI)(R8*4), Y13
	VFMADD231PS Y8, Y13, Y4
	VBROADCASTSS (SI)(R12*1), Y14
	VFMADD231PS Y8, Y14, Y5
	VBROADCASTSS (SI)(R11*2), Y15
	VFMADD231PS Y8, Y15, Y6
	VBROADCASTSS (SI)(R13*1), Y9
	VFMADD231PS Y8, Y9, Y7
	ADDQ R9, SI
	ADDQ R10, DX
	DECQ CX
	JNZ step
	DECQ BX
	JNZ segment
	VMOVUPS Y0, (DI)
	ADDQ R14, DI
	VMOVUPS Y1, (DI)
	ADDQ R14, DI
	VMOVUPS Y2, (DI)
	ADDQ R14, DI
	VMOVUPS Y3, (DI)
	ADDQ R14, DI
	VMOVUPS Y4, (DI)
	ADDQ R14, DI
	VMOVUPS Y5, (DI)
	ADDQ R14, DI
	VMOVUPS Y6, (DI)
	ADDQ R14, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET

// func kernel8x8rows(nseg int, segs *int, rows *[8]uintptr, sAk int, b *float32, c *float32, ldc int)
//
// kernel8x8segs for eight rows that are not evenly spaced: row i starts at rows[i], and B's rows
// are 32 bytes apart (eight floats). Step j of segment s reads rows[i] + off_s + j·sAk.
TEXT ·kernel8x8rows(SB), NOSPLIT, $0-56
	MOVQ nseg+0(FP), BX
	MOVQ segs+8(FP), AX
	MOVQ rows+16(FP), CX
	MOVQ 0(CX), SI
	MOVQ 8(CX), DI
	MOVQ 16(CX), R8
	MOVQ 24(CX), R10
	MOVQ 32(CX), R11
	MOVQ 40(CX), R12
	MOVQ 48(CX), R13
	MOVQ 56(CX), R15
	MOVQ sAk+24(FP), R14
	MOVQ b+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
rowssegment:
	MOVQ (AX), R9
	MOVQ 8(AX), CX
	ADDQ $16, AX
rowsstep:
	VMOVUPS (DX), Y8
	VBROADCASTSS (SI)(R9*1), Y9
	VFMADD231PS Y8, Y9, Y0
	VBROADCASTSS (DI)(R9*1), Y10
	VFMADD231PS Y8, Y10, Y1
	VBROADCASTSS (R8)(R9*1), Y11
	VFMADD231PS Y8, Y11, Y2
	VBROADCASTSS (R10)(R9*1), Y12
	VFMADD231PS Y8, Y12, Y3
	VBROADCASTSS (R11)(R9*1), Y13
	VFMADD231PS Y8, Y13, Y4
	VBROADCASTSS (R12)(R9*1), Y14
	VFMADD231PS Y8, Y14, Y5
	VBROADCASTSS (R13)(R9*1), Y15
	VFMADD231PS Y8, Y15, Y6
	VBROADCASTSS (R15)(R9*1), Y9
	VFMADD231PS Y8, Y9, Y7
	ADDQ R14, R9
	ADDQ $32, DX
	DECQ CX
	JNZ rowsstep
	DECQ BX
	JNZ rowssegment
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R14
	VMOVUPS Y0, (DI)
	ADDQ R14, DI
	VMOVUPS Y1, (DI)
	ADDQ R14, DI
	VMOVUPS Y2, (DI)
	ADDQ R14, DI
	VMOVUPS Y3, (DI)
	ADDQ R14, DI
	VMOVUPS Y4, (DI)
	ADDQ R14, DI
	VMOVUPS Y5, (DI)
	ADDQ R14, DI
	VMOVUPS Y6, (DI)
	ADDQ R14, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET

// func kernel8x8segsBcst(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)
//
// kernel8x8segs with AVX-512VL's broadcast operand: each fused multiply-add reads its element of A
// itself (one instruction where kernel8x8segs has a broadcast and a multiply-add). Same
// operations, same order, same results.
TEXT ·kernel8x8segsBcst(SB), NOSPLIT, $0-72
	MOVQ nseg+0(FP), BX
	MOVQ segs+8(FP), AX
	MOVQ a+16(FP), R15
	MOVQ sAi+24(FP), R8
	MOVQ sAk+32(FP), R9
	MOVQ b+40(FP), DX
	MOVQ ldb+48(FP), R10
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), R14
	LEAQ (R8)(R8*2), R11 // 3·sAi
	LEAQ (R8)(R8*4), R12 // 5·sAi
	LEAQ (R11)(R8*4), R13 // 7·sAi
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
bsegment:
	MOVQ (AX), SI
	ADDQ R15, SI
	MOVQ 8(AX), CX
	ADDQ $16, AX
bstep:
	VMOVUPS (DX), Y8
	VFMADD231PS.BCST (SI), Y8, Y0
	VFMADD231PS.BCST (SI)(R8*1), Y8, Y1
	VFMADD231PS.BCST (SI)(R8*2), Y8, Y2
	VFMADD231PS.BCST (SI)(R11*1), Y8, Y3
	VFMADD231PS.BCST (SI)(R8*4), Y8, Y4
	VFMADD231PS.BCST (SI)(R12*1), Y8, Y5
	VFMADD231PS.BCST (SI)(R11*2), Y8, Y6
	VFMADD231PS.BCST (SI)(R13*1), Y8, Y7
	ADDQ R9, SI
	ADDQ R10, DX
	DECQ CX
	JNZ bstep
	DECQ BX
	JNZ bsegment
	VMOVUPS Y0, (DI)
	ADDQ R14, DI
	VMOVUPS Y1, (DI)
	ADDQ R14, DI
	VMOVUPS Y2, (DI)
	ADDQ R14, DI
	VMOVUPS Y3, (DI)
	ADDQ R14, DI
	VMOVUPS Y4, (DI)
	ADDQ R14, DI
	VMOVUPS Y5, (DI)
	ADDQ R14, DI
	VMOVUPS Y6, (DI)
	ADDQ R14, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET

// func kernel8x8Bcst(k int, a *float32, sAi, sAk int, b *float32, ldb int, c *float32, ldc int)
//
// kernel8x8 with multiply-adds that read their element of A themselves (AVX-512VL broadcast
// operands): same operations, same order, same results.
TEXT ·kernel8x8Bcst(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ sAi+16(FP), R8
	MOVQ sAk+24(FP), R9
	MOVQ b+32(FP), DX
	MOVQ ldb+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R14
	LEAQ (R8)(R8*2), R11 // 3·sAi
	LEAQ (R8)(R8*4), R12 // 5·sAi
	LEAQ (R11)(R8*4), R13 // 7·sAi
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
b8loop:
	VMOVUPS (DX), Y8
	VFMADD231PS.BCST (SI), Y8, Y0
	VFMADD231PS.BCST (SI)(R8*1), Y8, Y1
	VFMADD231PS.BCST (SI)(R8*2), Y8, Y2
	VFMADD231PS.BCST (SI)(R11*1), Y8, Y3
	VFMADD231PS.BCST (SI)(R8*4), Y8, Y4
	VFMADD231PS.BCST (SI)(R12*1), Y8, Y5
	VFMADD231PS.BCST (SI)(R11*2), Y8, Y6
	VFMADD231PS.BCST (SI)(R13*1), Y8, Y7
	ADDQ R9, SI
	ADDQ R10, DX
	DECQ CX
	JNZ b8loop
	VMOVUPS Y0, (DI)
	ADDQ R14, DI
	VMOVUPS Y1, (DI)
	ADDQ R14, DI
	VMOVUPS Y2, (DI)
	ADDQ R14, DI
	VMOVUPS Y3, (DI)
	ADDQ R14, DI
	VMOVUPS Y4, (DI)
	ADDQ R14, DI
	VMOVUPS Y5, (DI)
	ADDQ R14, DI
	VMOVUPS Y6, (DI)
	ADDQ R14, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET

// func kernel8x8rowsBcst(nseg int, segs *int, rows *[8]uintptr, sAk int, b *float32, c *float32, ldc int)
//
// kernel8x8rows with multiply-adds that read their element of A themselves (AVX-512VL broadcast
// operands): same operations, same order, same results.
TEXT ·kernel8x8rowsBcst(SB), NOSPLIT, $0-56
	MOVQ nseg+0(FP), BX
	MOVQ segs+8(FP), AX
	MOVQ rows+16(FP), CX
	MOVQ 0(CX), SI
	MOVQ 8(CX), DI
	MOVQ 16(CX), R8
	MOVQ 24(CX), R10
	MOVQ 32(CX), R11
	MOVQ 40(CX), R12
	MOVQ 48(CX), R13
	MOVQ 56(CX), R15
	MOVQ sAk+24(FP), R14
	MOVQ b+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
brrowssegment:
	MOVQ (AX), R9
	MOVQ 8(AX), CX
	ADDQ $16, AX
brrowsstep:
	VMOVUPS (DX), Y8
	VFMADD231PS.BCST (SI)(R9*1), Y8, Y0
	VFMADD231PS.BCST (DI)(R9*1), Y8, Y1
	VFMADD231PS.BCST (R8)(R9*1), Y8, Y2
	VFMADD231PS.BCST (R10)(R9*1), Y8, Y3
	VFMADD231PS.BCST (R11)(R9*1), Y8, Y4
	VFMADD231PS.BCST (R12)(R9*1), Y8, Y5
	VFMADD231PS.BCST (R13)(R9*1), Y8, Y6
	VFMADD231PS.BCST (R15)(R9*1), Y8, Y7
	ADDQ R14, R9
	ADDQ $32, DX
	DECQ CX
	JNZ brrowsstep
	DECQ BX
	JNZ brrowssegment
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R14
	VMOVUPS Y0, (DI)
	ADDQ R14, DI
	VMOVUPS Y1, (DI)
	ADDQ R14, DI
	VMOVUPS Y2, (DI)
	ADDQ R14, DI
	VMOVUPS Y3, (DI)
	ADDQ R14, DI
	VMOVUPS Y4, (DI)
	ADDQ R14, DI
	VMOVUPS Y5, (DI)
	ADDQ R14, DI
	VMOVUPS Y6, (DI)
	ADDQ R14, DI
	VMOVUPS Y7, (DI)
	VZEROUPPER
	RET
