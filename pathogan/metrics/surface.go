package metrics

import (
	"fmt"
	"math"
	"slices"
)

// WorstDistance is the distance, in pixels, that the Worst policy gives
// HD95 and AVD when exactly one of the masks is empty: 373.13, the value
// BraTS uses (the diagonal of its 240×240×155 volume).
const WorstDistance = 373.13

// EmptyPolicy says how Evaluate scores a case whose prediction or truth (or
// both) is empty, where surface distances (and, for both empty, Dice) are
// undefined.
type EmptyPolicy int

const (
	// EmptySkip reports undefined metrics as not available: Result.Skipped
	// is true and the undefined fields hold NaN; leave them out of summaries.
	// One empty: Dice 0, distances n/a. Both empty: everything n/a.
	EmptySkip EmptyPolicy = iota
	// EmptyNaN sets undefined metrics to NaN (JSON null); Summary skips them.
	// One empty: Dice 0, distances NaN. Both empty: everything NaN.
	EmptyNaN
	// EmptyWorst follows BraTS. One empty: Dice 0 and every distance
	// WorstDistance (or Calculator.Worst). Both empty: Dice 1, distances 0.
	EmptyWorst
)

// String describes the policy in one line, to print under tables.
func (p EmptyPolicy) String() string {
	switch p {
	case EmptySkip:
		return "empty masks: skip (one empty: Dice 0, HD95/AVD n/a; both empty: all n/a)"
	case EmptyNaN:
		return "empty masks: NaN, not counted (one empty: Dice 0, HD95/AVD NaN; both empty: all NaN)"
	case EmptyWorst:
		return fmt.Sprintf("empty masks: worst, as BraTS (one empty: Dice 0, HD95/AVD %g px; both empty: Dice 1, HD95/AVD 0)", WorstDistance)
	}
	return fmt.Sprintf("EmptyPolicy(%d)", int(p))
}

// ParseEmptyPolicy parses "skip", "nan" or "worst".
func ParseEmptyPolicy(s string) (EmptyPolicy, error) {
	switch s {
	case "skip":
		return EmptySkip, nil
	case "nan":
		return EmptyNaN, nil
	case "worst":
		return EmptyWorst, nil
	}
	return 0, fmt.Errorf("metrics: unknown empty-mask policy %q (want skip, nan or worst)", s)
}

// Result holds the metrics of one case (one pair of 2-D masks). Distances
// are in pixels. With P and T the boundaries (see Boundary) of prediction
// and truth, d(P→T) the list of distances from each pixel of P to the nearest
// pixel of T, and d(T→P) the reverse:
//
//	Dice       = 2|pred ∩ truth| / (|pred| + |truth|)
//	HD95Pooled = q95(d(P→T) ∪ d(T→P))               (MedPy hd95)
//	HD95Max    = max(q95(d(P→T)), q95(d(T→P)))      (BraTS toolkit, MONAI)
//	AVDPooled  = (Σd(P→T) + Σd(T→P)) / (|P| + |T|)  (each boundary pixel once)
//	AVDMean    = (mean d(P→T) + mean d(T→P)) / 2    (MedPy assd)
//
// where q95 is Percentile(·, 95), numpy's default linear interpolation.
type Result struct {
	Dice, HD95Pooled, HD95Max, AVDPooled, AVDMean float64
	// PredEmpty and TruthEmpty say which masks had no foreground.
	PredEmpty, TruthEmpty bool
	// Skipped is true when the policy is EmptySkip and a mask was empty:
	// the fields holding NaN are not available and must not be reported.
	Skipped bool
}

// Calculator evaluates cases reusing its scratch buffers, so that repeated
// calls on images of one size do not allocate in the distance transform. The
// zero value is ready to use; a Calculator is not safe for concurrent use.
type Calculator struct {
	// Worst replaces WorstDistance under EmptyWorst when non-zero.
	Worst float64

	bp, bt []uint8
	g      []int32
	f, d   []float64
	z      []float64
	v      []int
	dpt    []float64
	dtp    []float64
	pooled []float64
}

// Evaluate computes the Result of one pair of h×w masks (row-major,
// non-zero = foreground) with a fresh Calculator; see Calculator.Evaluate.
func Evaluate(pred, truth []uint8, h, w int, policy EmptyPolicy) (Result, error) {
	var c Calculator
	return c.Evaluate(pred, truth, h, w, policy)
}

// Evaluate computes the Result of one pair of h×w masks (row-major,
// non-zero = foreground); empty masks are scored by policy. It returns an
// error when a mask does not hold h·w pixels.
func (c *Calculator) Evaluate(pred, truth []uint8, h, w int, policy EmptyPolicy) (Result, error) {
	if err := checkMask("prediction", pred, h, w); err != nil {
		return Result{}, err
	}
	if err := checkMask("truth", truth, h, w); err != nil {
		return Result{}, err
	}
	if policy < EmptySkip || policy > EmptyWorst {
		panic(fmt.Sprintf("metrics: unknown EmptyPolicy %d", int(policy)))
	}
	r := Result{Dice: Dice(pred, truth)}
	dpt, dtp, np, nt := c.surface(pred, truth, h, w)
	r.PredEmpty, r.TruthEmpty = np == 0, nt == 0
	if r.PredEmpty || r.TruthEmpty {
		nan := math.NaN()
		r.HD95Pooled, r.HD95Max, r.AVDPooled, r.AVDMean = nan, nan, nan, nan
		switch policy {
		case EmptySkip:
			r.Skipped = true
		case EmptyWorst:
			worst := WorstDistance
			if c.Worst != 0 {
				worst = c.Worst
			}
			if r.PredEmpty && r.TruthEmpty {
				r.Dice, worst = 1, 0
			}
			r.HD95Pooled, r.HD95Max, r.AVDPooled, r.AVDMean = worst, worst, worst, worst
		}
		return r, nil
	}
	slices.Sort(dpt)
	slices.Sort(dtp)
	c.pooled = mergeSorted(c.pooled[:0], dpt, dtp)
	r.HD95Pooled = percentileSorted(c.pooled, 95)
	r.HD95Max = max(percentileSorted(dpt, 95), percentileSorted(dtp, 95))
	sp, st := sum(dpt), sum(dtp)
	r.AVDPooled = (sp + st) / float64(len(dpt)+len(dtp))
	r.AVDMean = (sp/float64(len(dpt)) + st/float64(len(dtp))) / 2
	return r, nil
}

// SurfaceDistances returns the directed surface distances between two h×w
// masks: pt holds, for each boundary pixel of pred (in row-major order), the
// Euclidean distance in pixels to the nearest boundary pixel of truth, and tp
// the reverse. When one mask is empty both lists are empty. The slices are
// owned by c and valid until its next call.
func (c *Calculator) SurfaceDistances(pred, truth []uint8, h, w int) (pt, tp []float64, err error) {
	if err := checkMask("prediction", pred, h, w); err != nil {
		return nil, nil, err
	}
	if err := checkMask("truth", truth, h, w); err != nil {
		return nil, nil, err
	}
	pt, tp, _, _ = c.surface(pred, truth, h, w)
	return pt, tp, nil
}

// surface computes the directed distances of checked masks and the numbers
// of boundary pixels.
func (c *Calculator) surface(pred, truth []uint8, h, w int) (pt, tp []float64, np, nt int) {
	c.grow(h, w)
	np, bbp := boundaryInto(c.bp, pred, h, w)
	nt, bbt := boundaryInto(c.bt, truth, h, w)
	c.dpt, c.dtp = c.dpt[:0], c.dtp[:0]
	if np == 0 || nt == 0 {
		return c.dpt, c.dtp, np, nt
	}
	bb := bbp.union(bbt)
	c.dpt = c.directed(c.dpt, c.bp, c.bt, h, w, bb)
	c.dtp = c.directed(c.dtp, c.bt, c.bp, h, w, bb)
	return c.dpt, c.dtp, np, nt
}

// directed appends to dst the distance from each pixel of from to the
// nearest pixel of to, both lying in bb.
func (c *Calculator) directed(dst []float64, from, to []uint8, h, w int, bb box) []float64 {
	c.edtSq(to, h, w, bb, from, func(y int, d []float64) {
		for x, m := range from[y*w+bb.x0 : y*w+bb.x1] {
			if m != 0 {
				dst = append(dst, math.Sqrt(d[x]))
			}
		}
	})
	return dst
}

// Percentile returns the q-th percentile (0 <= q <= 100) of xs with numpy's
// default definition (method "linear", as MedPy's hd95 uses): with the
// values sorted, x₀ <= … <= x_{n−1}, and r = q/100·(n−1),
//
//	Percentile = x_⌊r⌋ + (r − ⌊r⌋)·(x_{⌊r⌋+1} − x_⌊r⌋)
//
// NaN when xs is empty. xs is not modified.
func Percentile(xs []float64, q float64) float64 {
	if q < 0 || q > 100 || math.IsNaN(q) {
		panic(fmt.Sprintf("metrics: percentile %v outside [0, 100]", q))
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return percentileSorted(s, q)
}

func percentileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	r := q / 100 * float64(len(s)-1)
	lo := int(math.Floor(r))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (r-float64(lo))*(s[lo+1]-s[lo])
}

func mergeSorted(dst, a, b []float64) []float64 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			dst = append(dst, a[i])
			i++
		} else {
			dst = append(dst, b[j])
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}
