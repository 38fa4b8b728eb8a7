//go:build amd64 && !purego

#include "textflag.h"

// expf's constants (expf.go) as float32, each repeated over a 32-byte vector, then the integer
// 127 (the exponent bias).
#define CONST(off, bits) \
	DATA expconst<>+(off+0)(SB)/4, bits; \
	DATA expconst<>+(off+4)(SB)/4, bits; \
	DATA expconst<>+(off+8)(SB)/4, bits; \
	DATA expconst<>+(off+12)(SB)/4, bits; \
	DATA expconst<>+(off+16)(SB)/4, bits; \
	DATA expconst<>+(off+20)(SB)/4, bits; \
	DATA expconst<>+(off+24)(SB)/4, bits; \
	DATA expconst<>+(off+28)(SB)/4, bits

CONST(0, $0x3fb8aa3b)   // log2(e)
CONST(32, $0x4b400000)  // expRound
CONST(64, $0x3f318000)  // expC1
CONST(96, $0xb95e8083)  // expC2
CONST(128, $0x3f000000) // expP0
CONST(160, $0x3e2aaaaa) // expP1
CONST(192, $0x3d2aa9c1) // expP2
CONST(224, $0x3c088908) // expP3
CONST(256, $0x3ab743ce) // expP4
CONST(288, $0x39506967) // expP5
CONST(320, $0x3f800000) // 1
CONST(352, $127)        // the exponent bias, int32
CONST(384, $0xc2aeac4f) // expLo
CONST(416, $0x42b17217) // expHi
GLOBL expconst<>(SB), RODATA|NOPTR, $448

// func expBlocks(dst, x *float32, n int, limit int32) int
//
// expSlice's in-range path on blocks of eight floats, up to n/8 of them: the same float32
// operations in the same order, one multiply or add at a time (no fused multiply-add), so each
// lane rounds as the Go loop does. A lane whose exponent n is below limit gets
// e^x - 1 = s·q + (s - 1), the others s1·(s2·(q + 1)). It stops before the first block with a
// value outside (expLo, expHi) or a NaN, leaving that block unwritten, and returns the number
// of floats done.
TEXT ·expBlocks(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	MOVQ $0, R8
	JZ done
	MOVL limit+24(FP), AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	LEAQ expconst<>(SB), DX
loop:
	VMOVUPS (SI), Y0            // v
	VCMPPS $0x1e, 384(DX), Y0, Y12 // v > expLo (false for NaN)
	VCMPPS $0x11, 416(DX), Y0, Y13 // v < expHi (false for NaN)
	VANDPS Y13, Y12, Y12
	VMOVMSKPS Y12, AX
	CMPL AX, $0xff
	JNE done
	VMULPS 0(DX), Y0, Y1        // v·log2(e)
	VADDPS 32(DX), Y1, Y1       // + round
	VSUBPS 32(DX), Y1, Y1       // - round: n
	VMULPS 64(DX), Y1, Y2       // n·C1
	VSUBPS Y2, Y0, Y2           // v - n·C1
	VMULPS 96(DX), Y1, Y3       // n·C2
	VSUBPS Y3, Y2, Y2           // r
	VMULPS Y2, Y2, Y3           // z = r²
	VMULPS 160(DX), Y2, Y4      // P1·r
	VADDPS 128(DX), Y4, Y4      // P0 + P1·r
	VMULPS 224(DX), Y2, Y5      // P3·r
	VADDPS 192(DX), Y5, Y5      // P2 + P3·r
	VMULPS Y5, Y3, Y5           // z·(P2 + P3·r)
	VADDPS Y5, Y4, Y4
	VMULPS Y3, Y3, Y6           // z²
	VMULPS 288(DX), Y2, Y7      // P5·r
	VADDPS 256(DX), Y7, Y7      // P4 + P5·r
	VMULPS Y7, Y6, Y7           // z²·(P4 + P5·r)
	VADDPS Y7, Y4, Y4           // p
	VMULPS Y4, Y3, Y4           // z·p
	VADDPS Y4, Y2, Y4           // q = r + z·p
	VCVTTPS2DQ Y1, Y5           // ni
	VPSRAD $1, Y5, Y6           // n1 = ni >> 1
	VPSUBD Y6, Y5, Y7           // ni - n1
	VPADDD 352(DX), Y6, Y6
	VPSLLD $23, Y6, Y6          // s1
	VPADDD 352(DX), Y7, Y7
	VPSLLD $23, Y7, Y7          // s2
	VADDPS 320(DX), Y4, Y8      // q + 1
	VMULPS Y8, Y7, Y8           // s2·(q + 1)
	VMULPS Y8, Y6, Y8           // s1·(s2·(q + 1))
	VMULPS Y7, Y6, Y9           // s = s1·s2
	VMULPS Y4, Y9, Y10          // s·q
	VSUBPS 320(DX), Y9, Y9      // s - 1
	VADDPS Y9, Y10, Y10         // s·q + (s - 1)
	VPCMPGTD Y5, Y15, Y11       // limit > ni
	VBLENDVPS Y11, Y10, Y8, Y8
	VMOVUPS Y8, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $8, R8
	DECQ CX
	JNZ loop
done:
	MOVQ R8, ret+32(FP)
	VZEROUPPER
	RET
