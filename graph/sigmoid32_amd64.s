#include "textflag.h"

// The constants of expCore32 and inRange32 (exp32.go), as float32 bit
// patterns, each repeated over the 8 lanes of a YMM register.
#define LANES8(name, bits) \
	DATA name<>+0(SB)/4, $bits; DATA name<>+4(SB)/4, $bits; \
	DATA name<>+8(SB)/4, $bits; DATA name<>+12(SB)/4, $bits; \
	DATA name<>+16(SB)/4, $bits; DATA name<>+20(SB)/4, $bits; \
	DATA name<>+24(SB)/4, $bits; DATA name<>+28(SB)/4, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

LANES8(sigsign, 0x80000000)
LANES8(siglo, 0xc2aeac50)    // -87.33655
LANES8(sighi, 0x42b17217)    // 88.72283
LANES8(siglog2e, 0x3fb8aa3b) // 1.44269504088896341
LANES8(sigmagic, 0x4b400000) // 12582912 = 1.5·2²³
LANES8(sigln2hi, 0x3f318000) // 0.693359375
LANES8(sigln2lo, 0xb95e8083) // -2.12194440e-4
LANES8(sigc5, 0x39506967)    // 1.9875691500e-4
LANES8(sigc4, 0x3ab743ce)    // 1.3981999507e-3
LANES8(sigc3, 0x3c088908)    // 8.3334519073e-3
LANES8(sigc2, 0x3d2aa9c1)    // 4.1665795894e-2
LANES8(sigc1, 0x3e2aaaaa)    // 1.6666665459e-1
LANES8(sigc0, 0x3f000000)    // 5.0000001201e-1
LANES8(sigone, 0x3f800000)   // 1

// func sigmoidAVX2(x, y []float32) int
//
// y[i] = 1/(1 + expCore32(-x[i])) for whole blocks of 8, with exactly the
// float32 operations of sigmoid32's scalar path in the same order (no fused
// multiply-add), so the results are the same bit for bit. It stops before
// the first block with a lane outside inRange32 (or NaN), or when fewer
// than 8 values remain, and returns the number of values it wrote.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-56
	MOVQ x_base+0(FP), DI
	MOVQ x_len+8(FP), CX
	MOVQ y_base+24(FP), SI
	XORQ AX, AX
	VMOVUPS sigone<>(SB), Y15

loop:
	CMPQ CX, $8
	JLT  done
	VMOVUPS (DI), Y0
	VXORPS  sigsign<>(SB), Y0, Y0 // a = -x

	// inRange32(a) in every lane (ordered compares: NaN fails).
	VCMPPS    $0x1d, siglo<>(SB), Y0, Y1 // a >= lo
	VCMPPS    $0x12, sighi<>(SB), Y0, Y2 // a <= hi
	VANDPS    Y1, Y2, Y1
	VMOVMSKPS Y1, BX
	CMPL      BX, $0xff
	JNE       done

	// n = (log2e·a + magic) − magic
	VMULPS siglog2e<>(SB), Y0, Y1
	VADDPS sigmagic<>(SB), Y1, Y1
	VSUBPS sigmagic<>(SB), Y1, Y1

	// r = a − n·ln2hi − n·ln2lo, z = r·r
	VMULPS sigln2hi<>(SB), Y1, Y2
	VSUBPS Y2, Y0, Y2
	VMULPS sigln2lo<>(SB), Y1, Y3
	VSUBPS Y3, Y2, Y2
	VMULPS Y2, Y2, Y3

	// p = ((((c5·r + c4)·r + c3)·r + c2)·r + c1)·r + c0
	VMULPS sigc5<>(SB), Y2, Y4
	VADDPS sigc4<>(SB), Y4, Y4
	VMULPS Y2, Y4, Y4
	VADDPS sigc3<>(SB), Y4, Y4
	VMULPS Y2, Y4, Y4
	VADDPS sigc2<>(SB), Y4, Y4
	VMULPS Y2, Y4, Y4
	VADDPS sigc1<>(SB), Y4, Y4
	VMULPS Y2, Y4, Y4
	VADDPS sigc0<>(SB), Y4, Y4

	// e = (p·z + r + 1)·2ⁿ, the scaling added to the exponent bits
	VMULPS     Y3, Y4, Y4
	VADDPS     Y2, Y4, Y4
	VADDPS     Y15, Y4, Y4
	VCVTTPS2DQ Y1, Y5
	VPSLLD     $23, Y5, Y5
	VPADDD     Y5, Y4, Y4

	// y = 1/(1 + e)
	VADDPS  Y15, Y4, Y4
	VDIVPS  Y4, Y15, Y4
	VMOVUPS Y4, (SI)

	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	ADDQ $8, AX
	JMP  loop

done:
	VZEROUPPER
	MOVQ AX, ret+48(FP)
	RET
