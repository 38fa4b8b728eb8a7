package training

import (
	"math"
	"math/rand/v2"
)

// LinearDecay is CycleGAN's learning-rate schedule, which every model here
// trains with: rate lr until step decayFrom·total, then linear down to 0 at
// total.
func LinearDecay(lr, decayFrom float64, total, step int) float64 {
	start := decayFrom * float64(total)
	if float64(step) < start || total <= 0 {
		return lr
	}
	frac := (float64(step) - start) / math.Max(1, float64(total)-start)
	return lr * math.Max(0, 1-frac)
}

// StepRand returns the random source of a step: batches, augmentation and
// pool decisions are drawn from (seed, step), so a resumed run draws what an
// uninterrupted one would have.
func StepRand(seed uint64, step int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(step)*0x9e3779b97f4a7c15+1))
}
