package evaluate

import (
	"fmt"
	"math"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// SelectionRule states how SelectCheckpoint picks the model behind a table
// when it is given a liveness test. It uses the validation patients'
// image-level labels only (healthy or pathological), never their pixel
// labels, so the weakly supervised claim holds for the chosen model too.
const SelectionRule = "among the checkpoints whose latent space is live on the validation patients' healthy slices " +
	"(no label used), or among all when none is: the latest whose AUC is within one standard error of the best, " +
	"where the AUC measures how well the segmented area tells the validation patients' pathological slices from " +
	"their healthy ones (image-level labels only)"

// SelectionRuleAUC is the rule without a liveness test.
const SelectionRuleAUC = "the latest checkpoint whose AUC is within one standard error of the best, where the AUC " +
	"measures how well the segmented area tells the validation patients' pathological slices from their healthy " +
	"ones (image-level labels only)"

// Candidate is one checkpoint scored on the validation split.
type Candidate struct {
	Step int
	Path string
	// AUC is the selection criterion: the probability that a pathological
	// validation slice gets a larger mask than a healthy one (ties count
	// half); AUCStdErr its standard error (Hanley and McNeil, 1982).
	AUC, AUCStdErr float64
	// ValDice is the mean per-slice Dice on the validation pathological
	// slices. It uses pixel labels and is reported only, never used to
	// choose.
	ValDice float64
	// Live is the liveness test's verdict (true without one).
	Live bool
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
// and picks one (SelectionRule; SelectionRuleAUC when live is nil). live,
// if not nil, tells whether a checkpoint's latent space is live. paths must
// be in training order. It returns an error when the set has no validation
// split with both classes.
func SelectCheckpoint(load Loader, live func(Segmenter) (bool, error), paths []string, set *data.Set, threshold float64, progress func(done, total int)) (Selection, error) {
	healthy, patho := set.Select(data.Val, data.Healthy), set.Select(data.Val, data.Pathological)
	if len(healthy) == 0 || len(patho) == 0 {
		return Selection{}, fmt.Errorf("%s: the validation split has %d healthy and %d pathological slices; prepare with --val-fraction to select a checkpoint",
			set.Dir, len(healthy), len(patho))
	}
	if len(paths) == 0 {
		return Selection{}, fmt.Errorf("select: no checkpoints")
	}
	sel := Selection{Rule: SelectionRuleAUC}
	if live != nil {
		sel.Rule = SelectionRule
	}
	for _, p := range paths {
		seg, step, err := load(p)
		if err != nil {
			return Selection{}, err
		}
		ok := true
		if live != nil {
			if ok, err = live(seg); err != nil {
				return Selection{}, err
			}
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
		a := AUC(pArea, hArea)
		sel.Candidates = append(sel.Candidates, Candidate{Step: step, Path: p, AUC: a, AUCStdErr: AUCStdErr(a, len(pArea), len(hArea)),
			ValDice: dice.Mean(), Live: ok})
		if progress != nil {
			progress(len(sel.Candidates), len(paths))
		}
	}
	sel.Chosen = choose(sel.Candidates)
	return sel, nil
}

// choose returns the index of the latest candidate whose AUC is within one
// standard error of the best one's (Breiman et al.'s one-standard-error
// rule: differences below the criterion's noise do not count, and the
// longer-trained model is preferred), among the live candidates, or among
// all when none is live.
func choose(cs []Candidate) int {
	anyLive := false
	for _, c := range cs {
		anyLive = anyLive || c.Live
	}
	best := -1
	for k, c := range cs {
		if (!anyLive || c.Live) && (best < 0 || c.AUC > cs[best].AUC) {
			best = k
		}
	}
	chosen := best
	for k, c := range cs {
		if (!anyLive || c.Live) && k > chosen && c.AUC >= cs[best].AUC-cs[best].AUCStdErr {
			chosen = k
		}
	}
	return chosen
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

// AUCStdErr is the standard error of an AUC a measured on nPos positive and
// nNeg negative cases (Hanley and McNeil, Radiology 143, 1982, eq. 2):
//
//	SE² = (a(1-a) + (nPos-1)(Q1-a²) + (nNeg-1)(Q2-a²)) / (nPos nNeg),
//	Q1 = a/(2-a),  Q2 = 2a²/(1+a).
func AUCStdErr(a float64, nPos, nNeg int) float64 {
	if nPos < 1 || nNeg < 1 || math.IsNaN(a) {
		return math.NaN()
	}
	q1, q2 := a/(2-a), 2*a*a/(1+a)
	v := (a*(1-a) + float64(nPos-1)*(q1-a*a) + float64(nNeg-1)*(q2-a*a)) / float64(nPos*nNeg)
	return math.Sqrt(max(v, 0))
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
