// Package metrics holds segmentation metrics as pure functions on binary
// masks.
package metrics

import "math"

// Dice returns the Dice coefficient 2|P ∩ T| / (|P| + |T|) of two binary
// masks of equal length (non-zero = foreground). Both empty gives NaN
// (undefined); the caller decides how to count it. It panics when the
// lengths differ.
func Dice[P, T ~uint8 | ~bool](pred []P, truth []T) float64 {
	inter, np, nt := Overlap(pred, truth)
	if np+nt == 0 {
		return math.NaN()
	}
	return 2 * float64(inter) / float64(np+nt)
}

// Overlap returns |P ∩ T|, |P| and |T| of two binary masks of equal length
// (non-zero = foreground): summed over slices, they give a volume's Dice.
// It panics when the lengths differ.
func Overlap[P, T ~uint8 | ~bool](pred []P, truth []T) (inter, np, nt int) {
	if len(pred) != len(truth) {
		panic("metrics: masks of different lengths")
	}
	var zp P
	var zt T
	for i := range pred {
		p, t := pred[i] != zp, truth[i] != zt
		if p {
			np++
		}
		if t {
			nt++
		}
		if p && t {
			inter++
		}
	}
	return inter, np, nt
}

// Threshold turns probabilities into a mask: p >= t.
func Threshold(probs []float32, t float64) []uint8 {
	out := make([]uint8, len(probs))
	for i, p := range probs {
		if float64(p) >= t {
			out[i] = 1
		}
	}
	return out
}
