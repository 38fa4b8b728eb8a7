package metrics

import (
	"fmt"
	"math"
)

// VolumeDice returns the per-patient volumetric Dice of a stack of slices:
// intersections and sizes are summed over all slices before dividing,
//
//	VolumeDice = 2 Σ_s |P_s ∩ T_s| / (Σ_s |P_s| + Σ_s |T_s|)
//
// NaN when every slice of both stacks is empty. It returns an error when the
// stacks differ in length or a slice pair differs in size.
func VolumeDice(pred, truth [][]uint8) (float64, error) {
	if len(pred) != len(truth) {
		return 0, fmt.Errorf("metrics: %d predicted slices, %d truth slices", len(pred), len(truth))
	}
	var inter, n int
	for s := range pred {
		p, t := pred[s], truth[s]
		if len(p) != len(t) {
			return 0, fmt.Errorf("metrics: slice %d: %d predicted pixels, %d truth pixels", s, len(p), len(t))
		}
		for i := range p {
			if p[i] != 0 {
				n++
				if t[i] != 0 {
					inter++
				}
			}
			if t[i] != 0 {
				n++
			}
		}
	}
	if n == 0 {
		return math.NaN(), nil
	}
	return 2 * float64(inter) / float64(n), nil
}

// Summary accumulates one metric over cases and reports it as the paper
// does, "mean ± std (median)". NaN values are counted in NaNs and otherwise
// ignored. The zero value is empty and ready to use.
type Summary struct {
	vals []float64
	// NaNs is the number of NaN values added (and left out).
	NaNs int
}

// Add adds one value; NaN only increments NaNs.
func (s *Summary) Add(v float64) {
	if math.IsNaN(v) {
		s.NaNs++
		return
	}
	s.vals = append(s.vals, v)
}

// N returns the number of values counted (NaNs excluded).
func (s *Summary) N() int { return len(s.vals) }

// Mean returns the arithmetic mean Σv/n, NaN when n = 0.
func (s *Summary) Mean() float64 {
	if len(s.vals) == 0 {
		return math.NaN()
	}
	return sum(s.vals) / float64(len(s.vals))
}

// Std returns the sample standard deviation sqrt(Σ(v−mean)²/(n−1)) (Bessel's
// correction, as numpy's std(ddof=1) and pandas), NaN when n < 2.
func (s *Summary) Std() float64 {
	n := len(s.vals)
	if n < 2 {
		return math.NaN()
	}
	return math.Sqrt(s.ss() / float64(n-1))
}

// PopStd returns the population standard deviation sqrt(Σ(v−mean)²/n)
// (numpy's default std), NaN when n = 0.
func (s *Summary) PopStd() float64 {
	n := len(s.vals)
	if n == 0 {
		return math.NaN()
	}
	return math.Sqrt(s.ss() / float64(n))
}

func (s *Summary) ss() float64 {
	m := s.Mean()
	var ss float64
	for _, v := range s.vals {
		ss += (v - m) * (v - m)
	}
	return ss
}

// Median returns Percentile(values, 50): the middle value, or the mean of
// the two middle values; NaN when n = 0.
func (s *Summary) Median() float64 {
	if len(s.vals) == 0 {
		return math.NaN()
	}
	return Percentile(s.vals, 50)
}

// String formats the summary as "mean ± std (median)" with three decimals,
// std being the sample std, e.g. "0.812 ± 0.101 (0.845)".
func (s *Summary) String() string {
	return fmt.Sprintf("%.3f ± %.3f (%.3f)", s.Mean(), s.Std(), s.Median())
}
