//go:build !amd64 || purego

package vec

const useAVX2 = false

func asmVV(Op, *float32, *float32, *float32, int) {}

func asmVS(Op, *float32, *float32, float32, int) {}

func asmSV(Op, *float32, *float32, float32, int) {}

func asmSelect([]float32, []bool, []float32, []float32, int) {}
