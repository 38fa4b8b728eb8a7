package evaluate

import (
	"fmt"
	"math"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// SelectionRule states how SelectCheckpoint picks the model behind a table.
// It uses the validation patients' image-level labels only (healthy or
// pathological), never their pixel labels, so the weakly supervised claim
// holds for the chosen model too.
const SelectionRule = "the checkpoint whose segmented area best tells the validation patients' pathological " +
	"slices from their healthy ones (AUC of the mask area; image-level labels only), the later one on a tie"

// Candidate is one checkpoint scored on the validation split.
type Candidate struct {
	Step int
	Path string
	// AUC is the selection criterion: the probability that a pathological
	// validation slice gets a larger mask than a healthy one (ties count
	// half).
	AUC float64
	// ValDice is the mean per-slice Dice on the validation pathological
	// slices. It uses pixel labels and is reported only, never used to
	// choose.
	ValDice float64
}

// Selection is the result of SelectCheckpoint.
type Selection struct {
	Rule       string
	Candidates []Candidate // in training order
	Chosen     int         // index into Candidates
}

// Loader loads the segmenter of a checkpoint file and returns its step.
type Loader func(path string) (Segmenter, int, error)

// SelectCheckpoint scores each checkpoint on the validation split of set
// (see SelectionRule) and picks one. paths must be in training order. It
// returns an error when the set has no validation split with both classes.
func SelectCheckpoint(load Loader, paths []string, set *data.Set, threshold float64, progress func(done, total int)) (Selection, error) {
	healthy, patho := set.Select(data.Val, data.Healthy), set.Select(data.Val, data.Pathological)
	if len(healthy) == 0 || len(patho) == 0 {
		return Selection{}, fmt.Errorf("%s: the validation split has %d healthy and %d pathological slices; prepare with --val-fraction to select a checkpoint",
			set.Dir, len(healthy), len(patho))
	}
	if len(paths) == 0 {
		return Selection{}, fmt.Errorf("select: no checkpoints")
	}
	sel := Selection{Rule: SelectionRule}
	for k, p := range paths {
		seg, step, err := load(p)
		if err != nil {
			return Selection{}, err
		}
		hArea, err := maskAreas(seg, set, healthy, threshold)
		if err != nil {
			return Selection{}, err
		}
		rows, err := Run(seg, set, patho, Options{Threshold: threshold, Policy: metrics.EmptySkip}, nil)
		if err != nil {
			return Selection{}, err
		}
		pArea := make([]float64, len(rows))
		var dice metrics.Summary
		for i, r := range rows {
			pArea[i] = float64(r.Predicted)
			dice.Add(r.Dice)
		}
		c := Candidate{Step: step, Path: p, AUC: AUC(pArea, hArea), ValDice: dice.Mean()}
		sel.Candidates = append(sel.Candidates, c)
		if c.AUC >= sel.Candidates[sel.Chosen].AUC {
			sel.Chosen = k
		}
		if progress != nil {
			progress(k+1, len(paths))
		}
	}
	return sel, nil
}

// maskAreas segments the slices idx and returns each mask's pixel count.
func maskAreas(seg Segmenter, set *data.Set, idx []int, threshold float64) ([]float64, error) {
	per, px := set.Height*set.Width*set.Channels, set.Height*set.Width
	var out []float64
	for lo := 0; lo < len(idx); lo += 8 {
		hi := min(lo+8, len(idx))
		x := make([]float32, (hi-lo)*per)
		for k, i := range idx[lo:hi] {
			if _, err := set.Image(i, x[k*per:(k+1)*per]); err != nil {
				return nil, err
			}
		}
		probs, err := seg.Segment(x)
		if err != nil {
			return nil, err
		}
		for k := range hi - lo {
			n := 0
			for _, v := range probs[k*px : (k+1)*px] {
				if float64(v) > threshold {
					n++
				}
			}
			out = append(out, float64(n))
		}
	}
	return out, nil
}

// AUC is the area under the ROC curve of scores that should be larger for
// pos than for neg: P(pos > neg) + P(pos = neg)/2 over all pairs (the
// Mann-Whitney statistic). NaN when either is empty.
func AUC(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				s++
			case p == n:
				s += 0.5
			}
		}
	}
	return s / float64(len(pos)*len(neg))
}

// WithEmptyPolicy returns a copy of rows (scored under any policy) with the
// distances of slices whose prediction or truth is empty set as policy p
// says (see metrics.EmptyPolicy): NaN under skip and nan; under worst,
// metrics.WorstDistance when one mask is empty and 0 (with Dice 1) when both
// are. Rows with both masks non-empty are unchanged.
func WithEmptyPolicy(rows []Row, p metrics.EmptyPolicy) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		if r.Predicted > 0 && r.TumourPixels > 0 {
			out[i] = r
			continue
		}
		both := r.Predicted == 0 && r.TumourPixels == 0
		d, dice := math.NaN(), 0.0
		switch {
		case p == metrics.EmptyWorst && both:
			d, dice = 0, 1
		case p == metrics.EmptyWorst:
			d = metrics.WorstDistance
		case both:
			dice = math.NaN()
		}
		r.Dice, r.HD95, r.AVD, r.HD95Max, r.AVDMean = dice, d, d, d, d
		out[i] = r
	}
	return out
}
