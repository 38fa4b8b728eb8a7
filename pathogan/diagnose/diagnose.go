// Package diagnose measures the failure modes of a trained PathoGAN that a
// Dice score hides: a latent space the decoder ignores (every δB gives the
// same pathology, or none), encodings whose means do not vary over the data
// (inactive units), and labelmaps whose areas do not follow the tumours'.
//
// Everything here runs a model at test time through pathogan.Inference
// (labelmap noise ε = 0, γA at ΓA's mean) and returns numbers; nothing is
// printed. Masks are labelmaps thresholded at Options.Threshold.
package diagnose

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// Options of an inspection.
type Options struct {
	// Split is the split whose slices are used ("test").
	Split string
	// Healthy and Pathological are the numbers of slices used (the first
	// ones of the split, evenly spread over it); 0 takes 20 and 64.
	Healthy, Pathological int
	// PerSlice is the number of δB drawn into each healthy slice (0: 8).
	PerSlice int
	// Seed drives the δB draws.
	Seed uint64
	// Threshold turns labelmaps into masks (0: the model's Config.Threshold).
	Threshold float64
	// MinRegion is the area, in pixels, above which a sample's largest
	// connected region counts as a pathology (0: 20, the paper's rule for a
	// pathological slice).
	MinRegion int
	// ActiveVar is the variance of an encoding's mean over the data above
	// which a dimension counts as active (0: 0.01).
	ActiveVar float64
}

func (o Options) withDefaults(cfg pathogan.Config) Options {
	if o.Split == "" {
		o.Split = "test"
	}
	if o.Healthy <= 0 {
		o.Healthy = 20
	}
	if o.Pathological <= 0 {
		o.Pathological = 64
	}
	if o.PerSlice <= 0 {
		o.PerSlice = 8
	}
	if o.Threshold <= 0 {
		o.Threshold = cfg.Threshold
	}
	if o.MinRegion <= 0 {
		o.MinRegion = 20
	}
	if o.ActiveVar <= 0 {
		o.ActiveVar = 0.01
	}
	return o
}

// Quantiles are the 10th, 50th and 90th percentiles of a set of areas (px).
type Quantiles struct {
	Q10    float64 `json:"q10"`
	Median float64 `json:"median"`
	Q90    float64 `json:"q90"`
}

// Report is the result of Inspect. Fractions and IoUs are in [0, 1].
type Report struct {
	Step      int     `json:"step"`
	Split     string  `json:"split"`
	Threshold float64 `json:"threshold"`

	// Samples: Samples.PerSlice δB ~ N(0, I) drawn into each of
	// Samples.Slices healthy slices (GA, test time).
	Samples SampleStats `json:"samples"`
	// Sensitivity of GA's labelmap and output to δB, γA and the input.
	Sensitivity Sensitivity `json:"sensitivity"`
	// GammaActive and DeltaActive count the dimensions of ΓA's mean (over
	// healthy slices) and ∆B's mean (over pathological slices) whose
	// variance exceeds Options.ActiveVar; Z is the encoding length.
	GammaActive int `json:"gamma_active_units"`
	DeltaActive int `json:"delta_active_units"`
	Z           int `json:"z"`
	// SegmentedArea is the area of GB's masks on the pathological slices;
	// TumourArea the true whole-tumour area of the same slices.
	SegmentedArea Quantiles `json:"segmented_area"`
	TumourArea    Quantiles `json:"tumour_area"`
	// OutsideTumour is the mean, over the same slices, of GB's mask pixels
	// that lie outside the true tumour (the false positives), px per slice.
	OutsideTumour float64 `json:"mask_outside_tumour_px"`
	// TumourPlaceSpread is the root-mean-square distance (px) of the true
	// tumours' centroids on those slices from their mean: how far apart
	// real tumours lie, the scale for Samples.PlaceSpread.
	TumourPlaceSpread float64 `json:"tumour_place_spread_px"`
	// Place says whether ∆B's code of those tumours carries their place.
	Place PlaceCode `json:"place_code"`
}

// SampleStats describes pathologies sampled into healthy slices.
type SampleStats struct {
	Slices   int `json:"slices"`
	PerSlice int `json:"per_slice"`
	// NonEmpty is the share of samples whose mask has a connected region
	// larger than Options.MinRegion pixels.
	NonEmpty float64 `json:"nonempty_fraction"`
	// MeanPairwiseIoU is the mean, over slices and over pairs of one
	// slice's samples, of the IoU of their masks (two empty masks: 1, they
	// are the same). 1 means every δB gives the same pathology.
	MeanPairwiseIoU float64 `json:"mean_pairwise_iou"`
	// PlaceSpread is where the samples put their pathology: the mean, over
	// slices with at least two non-empty samples, of the root-mean-square
	// distance (px) of each non-empty mask's centroid from the mean of that
	// slice's centroids. Near 0 when every draw adds its lesion at the same
	// place and varies only its size and brightness; low IoU alone does not
	// tell these apart, since a small and a large lesion at one place also
	// overlap little.
	PlaceSpread float64 `json:"place_spread_px"`
	// Area are the quantiles of the samples' mask areas (px).
	Area Quantiles `json:"area"`
	// MeanLabelmap and MaxLabelmap are the mean and the largest labelmap
	// value over all samples' pixels: how far GA is from adding anything
	// when no mask passes the threshold.
	MeanLabelmap float64 `json:"mean_labelmap"`
	MaxLabelmap  float64 `json:"max_labelmap"`
	// BelowThreshold is the share of the labelmaps' pairwise difference,
	// Σ|l1 - l2| over pairs of one slice's samples, that lies at pixels where
	// both are at or below the threshold: change that no mask shows. The
	// mode-seeking term (Config.LambdaDiversity) measures all of it, so a
	// high share says GA meets that term's floor with faint background
	// patterns rather than with different lesions.
	BelowThreshold float64 `json:"below_threshold_share"`
}

// Sensitivity compares how much GA's result changes when only δB changes
// with how much it changes between inputs. Each change is the mean absolute
// difference per pixel, for the labelmap (L) and for the output image ŷB
// (Image).
type Sensitivity struct {
	// DeltaL, DeltaImage: same slice, same γA, two δB draws.
	DeltaL     float64 `json:"delta_labelmap"`
	DeltaImage float64 `json:"delta_image"`
	// GammaL, GammaImage: same slice and δB, γA of another slice.
	GammaL     float64 `json:"gamma_labelmap"`
	GammaImage float64 `json:"gamma_image"`
	// InputL, InputImage: same δB, two different slices (image and γA).
	InputL     float64 `json:"input_labelmap"`
	InputImage float64 `json:"input_image"`
	// RelativeL and RelativeImage are DeltaL/InputL and
	// DeltaImage/InputImage: near 0 when GA ignores δB.
	RelativeL     float64 `json:"relative_labelmap"`
	RelativeImage float64 `json:"relative_image"`
}

// Inspect measures a model on slices of set: samples and sensitivity on
// healthy slices, active units and segmented areas on pathological ones.
// It returns an error when the set's slices do not fit the model or the
// split has too few slices of a class.
func Inspect(m *pathogan.Inference, set *data.Set, opt Options) (Report, error) {
	cfg := m.Cfg
	opt, patho, xh, err := slicesOf(m, set, opt)
	if err != nil {
		return Report{}, err
	}
	xp, err := images(set, patho)
	if err != nil {
		return Report{}, err
	}
	r := Report{Step: m.Step, Split: opt.Split, Threshold: opt.Threshold, Z: cfg.Z}
	if r.Samples, err = Samples(m, xh, opt.PerSlice, opt.Seed, opt.Threshold, opt.MinRegion); err != nil {
		return Report{}, err
	}
	if r.Sensitivity, err = MeasureSensitivity(m, xh, opt.Seed); err != nil {
		return Report{}, err
	}
	gm, _, err := m.EncodeGamma(xh)
	if err != nil {
		return Report{}, err
	}
	dm, _, err := m.EncodeDelta(xp)
	if err != nil {
		return Report{}, err
	}
	r.GammaActive = ActiveUnits(gm, cfg.Z, opt.ActiveVar)
	r.DeltaActive = ActiveUnits(dm, cfg.Z, opt.ActiveVar)

	probs, err := m.Segment(xp)
	if err != nil {
		return Report{}, err
	}
	px := cfg.Size * cfg.Size
	var seg, truth, ys, xs []float64
	var xt []float32 // the slices with a tumour, for Place
	per := px * cfg.Channels
	outside := 0
	for k, idx := range patho {
		mask := Mask(probs[k*px:(k+1)*px], opt.Threshold)
		lab, err := set.Label(idx, nil)
		if err != nil {
			return Report{}, err
		}
		tm := make([]bool, len(lab))
		for p, v := range lab {
			tm[p] = v > 0
		}
		inter, np, n := metrics.Overlap(mask, tm)
		seg, truth = append(seg, float64(np)), append(truth, float64(n))
		outside += np - inter
		if n > 0 {
			y, x := Centroid(tm, cfg.Size)
			ys, xs = append(ys, y), append(xs, x)
			xt = append(xt, xp[k*per:(k+1)*per]...)
		}
	}
	r.SegmentedArea, r.TumourArea = QuantilesOf(seg), QuantilesOf(truth)
	if len(patho) > 0 {
		r.OutsideTumour = float64(outside) / float64(len(patho))
	}
	if len(ys) >= 2 {
		r.TumourPlaceSpread = rmsSpread(ys, xs)
		if r.Place, err = MeasurePlaceCode(m, xt, ys, xs, xh, opt.Threshold, opt.MinRegion); err != nil {
			return Report{}, err
		}
	}
	return r, nil
}

// Liveness measures only what Report.Collapsed reads, the samples and
// Sensitivity.DeltaL, on the slices and with the draws Inspect uses: its
// report gives Collapsed the verdict Inspect's would, at about half the
// cost. The other fields are left zero. Checkpoint selection runs it on
// every checkpoint.
func Liveness(m *pathogan.Inference, set *data.Set, opt Options) (Report, error) {
	opt, _, xh, err := slicesOf(m, set, opt)
	if err != nil {
		return Report{}, err
	}
	r := Report{Step: m.Step, Split: opt.Split, Threshold: opt.Threshold, Z: m.Cfg.Z}
	if r.Samples, err = Samples(m, xh, opt.PerSlice, opt.Seed, opt.Threshold, opt.MinRegion); err != nil {
		return Report{}, err
	}
	gamma, _, err := m.EncodeGamma(xh)
	if err != nil {
		return Report{}, err
	}
	base, otherDelta, _, err := deltaPair(m, xh, gamma, opt.Seed)
	if err != nil {
		return Report{}, err
	}
	r.Sensitivity.DeltaL = meanAbsDiff(base.Labelmap, otherDelta.Labelmap)
	return r, nil
}

// slicesOf checks that set's slices fit m and picks the split's slices an
// inspection uses: it returns the options with their defaults, the
// pathological slices' indices and the healthy slices' images.
func slicesOf(m *pathogan.Inference, set *data.Set, opt Options) (Options, []int, []float32, error) {
	cfg := m.Cfg
	opt = opt.withDefaults(cfg)
	if err := data.CheckSplit(opt.Split); err != nil {
		return opt, nil, nil, fmt.Errorf("diagnose: %w", err)
	}
	if set.Height != cfg.Size || set.Width != cfg.Size || set.Channels != cfg.Channels {
		return opt, nil, nil, fmt.Errorf("diagnose: slices are %dx%dx%d, the model takes %dx%dx%d",
			set.Height, set.Width, set.Channels, cfg.Size, cfg.Size, cfg.Channels)
	}
	healthy := spread(set.Select(opt.Split, data.Healthy), opt.Healthy)
	patho := spread(set.Select(opt.Split, data.Pathological), opt.Pathological)
	if len(healthy) < 2 || len(patho) < 2 {
		return opt, nil, nil, fmt.Errorf("diagnose: split %q has %d healthy and %d pathological slices; want at least 2 of each",
			opt.Split, len(set.Select(opt.Split, data.Healthy)), len(set.Select(opt.Split, data.Pathological)))
	}
	xh, err := images(set, healthy)
	if err != nil {
		return opt, nil, nil, err
	}
	return opt, patho, xh, nil
}

// spread picks n indices evenly spread over idx (all when n >= len(idx)).
func spread(idx []int, n int) []int {
	if n >= len(idx) {
		return idx
	}
	out := make([]int, n)
	for k := range n {
		out[k] = idx[k*len(idx)/n]
	}
	return out
}

// images reads the slices idx of set into one [n][h][w][c] batch.
func images(set *data.Set, idx []int) ([]float32, error) {
	per := set.Height * set.Width * set.Channels
	x := make([]float32, len(idx)*per)
	for k, i := range idx {
		if _, err := set.Image(i, x[k*per:(k+1)*per]); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Samples draws perSlice codes δB ~ N(0, I) into each healthy image of x
// ([n][h][w][c]) and describes the masks (labelmaps > threshold) of the
// results: the share with a connected region above minRegion pixels, their
// areas and the mean pairwise IoU within a slice.
func Samples(m *pathogan.Inference, x []float32, perSlice int, seed uint64, threshold float64, minRegion int) (SampleStats, error) {
	cfg := m.Cfg
	per, px := cfg.Size*cfg.Size*cfg.Channels, cfg.Size*cfg.Size
	n := len(x) / per
	if n == 0 || perSlice < 2 {
		return SampleStats{}, fmt.Errorf("diagnose: samples need at least one slice and two draws per slice (got %d, %d)", n, perSlice)
	}
	st := SampleStats{Slices: n, PerSlice: perSlice}
	var areas []float64
	nonEmpty, iouSum, iouN := 0, 0.0, 0
	spreadSum, spreadN := 0.0, 0
	diffBelow, diffAll := 0.0, 0.0
	for s := range n {
		tr, err := m.SamplePathologies(x[s*per:(s+1)*per], perSlice, seed+uint64(s))
		if err != nil {
			return SampleStats{}, err
		}
		masks := make([][]bool, perSlice)
		for _, v := range tr.Labelmap {
			st.MeanLabelmap += float64(v)
			st.MaxLabelmap = max(st.MaxLabelmap, float64(v))
		}
		var ys, xs []float64 // centroids of the non-empty samples
		for k := range perSlice {
			masks[k] = Mask(tr.Labelmap[k*px:(k+1)*px], threshold)
			if LargestRegion(masks[k], cfg.Size, cfg.Size) > minRegion {
				nonEmpty++
				y, x := Centroid(masks[k], cfg.Size)
				ys, xs = append(ys, y), append(xs, x)
			}
			areas = append(areas, float64(countTrue(masks[k])))
		}
		for a := range perSlice {
			for b := a + 1; b < perSlice; b++ {
				iouSum += IoU(masks[a], masks[b])
				iouN++
				below, above := SplitDifference(tr.Labelmap[a*px:(a+1)*px], tr.Labelmap[b*px:(b+1)*px], threshold)
				diffBelow += below
				diffAll += below + above
			}
		}
		if len(ys) >= 2 {
			spreadSum += rmsSpread(ys, xs)
			spreadN++
		}
	}
	if spreadN > 0 {
		st.PlaceSpread = spreadSum / float64(spreadN)
	}
	if diffAll > 0 {
		st.BelowThreshold = diffBelow / diffAll
	}
	st.NonEmpty = float64(nonEmpty) / float64(n*perSlice)
	st.MeanLabelmap /= float64(n * perSlice * px)
	st.MeanPairwiseIoU = iouSum / float64(iouN)
	st.Area = QuantilesOf(areas)
	return st, nil
}

// MeasureSensitivity compares GA's results on the healthy images x
// ([n][h][w][c], n >= 2) for two δB draws, for γA swapped with the next
// slice's, and for the next slice with the same δB (see Sensitivity).
func MeasureSensitivity(m *pathogan.Inference, x []float32, seed uint64) (Sensitivity, error) {
	cfg := m.Cfg
	per := cfg.Size * cfg.Size * cfg.Channels
	n := len(x) / per
	if n < 2 {
		return Sensitivity{}, fmt.Errorf("diagnose: sensitivity needs at least 2 slices, got %d", n)
	}
	gamma, _, err := m.EncodeGamma(x)
	if err != nil {
		return Sensitivity{}, err
	}
	base, otherDelta, d1, err := deltaPair(m, x, gamma, seed)
	if err != nil {
		return Sensitivity{}, err
	}
	// shifted rolls [n][k] rows by one: row s takes row s+1.
	shifted := func(v []float32, k int) []float32 {
		return append(slices.Clone(v[k:]), v[:k]...)
	}
	otherGamma, err := m.Decode(x, shifted(gamma, cfg.Z), d1)
	if err != nil {
		return Sensitivity{}, err
	}
	// The next slice with this slice's δB, rolled back so that row s is
	// compared with row s of base.
	next, err := m.Decode(shifted(x, per), shifted(gamma, cfg.Z), d1)
	if err != nil {
		return Sensitivity{}, err
	}
	s := Sensitivity{
		DeltaL: meanAbsDiff(base.Labelmap, otherDelta.Labelmap), DeltaImage: meanAbsDiff(base.Output, otherDelta.Output),
		GammaL: meanAbsDiff(base.Labelmap, otherGamma.Labelmap), GammaImage: meanAbsDiff(base.Output, otherGamma.Output),
		InputL: meanAbsDiff(base.Labelmap, next.Labelmap), InputImage: meanAbsDiff(base.Output, next.Output),
	}
	s.RelativeL, s.RelativeImage = ratio(s.DeltaL, s.InputL), ratio(s.DeltaImage, s.InputImage)
	return s, nil
}

// deltaPair decodes the images x with their codes gamma and two δB draws
// (from seed and seed+0x5eed) and returns both results and the first draw.
func deltaPair(m *pathogan.Inference, x, gamma []float32, seed uint64) (base, other pathogan.Translation, d1 []float32, err error) {
	n := len(x) / (m.Cfg.Size * m.Cfg.Size * m.Cfg.Channels)
	d1 = m.SampleDeltas(n, seed)
	d2 := m.SampleDeltas(n, seed+0x5eed)
	if base, err = m.Decode(x, gamma, d1); err != nil {
		return
	}
	other, err = m.Decode(x, gamma, d2)
	return
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func meanAbsDiff(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(float64(a[i] - b[i]))
	}
	return s / float64(len(a))
}

// ActiveUnits counts the dimensions of encoding means mu ([n][z]) whose
// variance over the n rows exceeds minVar (Burda et al.'s active units).
func ActiveUnits(mu []float32, z int, minVar float64) int {
	n := len(mu) / z
	if n < 2 {
		return 0
	}
	active := 0
	for d := range z {
		mean := 0.0
		for r := range n {
			mean += float64(mu[r*z+d])
		}
		mean /= float64(n)
		v := 0.0
		for r := range n {
			e := float64(mu[r*z+d]) - mean
			v += e * e
		}
		if v/float64(n-1) > minVar {
			active++
		}
	}
	return active
}

// Mask thresholds a labelmap: true where l > threshold.
func Mask(l []float32, threshold float64) []bool {
	m := make([]bool, len(l))
	for i, v := range l {
		m[i] = float64(v) > threshold
	}
	return m
}

func countTrue(m []bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// SplitDifference sums |l1 - l2| over the pixels where both labelmaps are at
// or below threshold (below) and over the others (above).
func SplitDifference(l1, l2 []float32, threshold float64) (below, above float64) {
	for p, a := range l1 {
		d := math.Abs(float64(a) - float64(l2[p]))
		if float64(a) <= threshold && float64(l2[p]) <= threshold {
			below += d
		} else {
			above += d
		}
	}
	return below, above
}

// IoU is |a ∩ b| / |a ∪ b| of two masks of one size; 1 when both are empty.
func IoU(a, b []bool) float64 {
	inter, union := 0, 0
	for i := range a {
		if a[i] && b[i] {
			inter++
		}
		if a[i] || b[i] {
			union++
		}
	}
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// Centroid returns the mean row and column of a w-wide mask's pixels (0, 0
// for an empty mask).
func Centroid(m []bool, w int) (y, x float64) {
	n := 0
	for p, v := range m {
		if v {
			y += float64(p / w)
			x += float64(p % w)
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return y / float64(n), x / float64(n)
}

// rmsSpread is the root-mean-square distance of the points (ys[k], xs[k])
// from their mean.
func rmsSpread(ys, xs []float64) float64 {
	var my, mx float64
	for k := range ys {
		my += ys[k]
		mx += xs[k]
	}
	my /= float64(len(ys))
	mx /= float64(len(xs))
	var ss float64
	for k := range ys {
		ss += (ys[k]-my)*(ys[k]-my) + (xs[k]-mx)*(xs[k]-mx)
	}
	return math.Sqrt(ss / float64(len(ys)))
}

// LargestRegion returns the pixel count of the largest 4-connected region
// of an h×w mask (0 for an empty one).
func LargestRegion(m []bool, h, w int) int {
	seen := make([]bool, len(m))
	best := 0
	var stack []int
	for start := range m {
		if !m[start] || seen[start] {
			continue
		}
		seen[start] = true
		stack = append(stack[:0], start)
		n := 0
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			y, x := p/w, p%w
			for _, q := range [4][2]int{{y - 1, x}, {y + 1, x}, {y, x - 1}, {y, x + 1}} {
				if q[0] < 0 || q[0] >= h || q[1] < 0 || q[1] >= w {
					continue
				}
				k := q[0]*w + q[1]
				if m[k] && !seen[k] {
					seen[k] = true
					stack = append(stack, k)
				}
			}
		}
		best = max(best, n)
	}
	return best
}

// QuantilesOf returns the 10th, 50th and 90th percentiles of v (linear
// interpolation between order statistics); zeros for an empty v.
func QuantilesOf(v []float64) Quantiles {
	if len(v) == 0 {
		return Quantiles{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	q := func(p float64) float64 {
		pos := p * float64(len(s)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(s)-1)
		return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
	}
	return Quantiles{Q10: q(0.1), Median: q(0.5), Q90: q(0.9)}
}

// Thresholds say when a latent space counts as live (see Report.Collapsed).
type Thresholds struct {
	// MinNonEmpty is the least share of δB samples with a region.
	MinNonEmpty float64
	// MaxIoU is the largest mean pairwise IoU of one slice's samples.
	MaxIoU float64
	// MinDelta is the least mean change of GA's labelmap per pixel
	// between two δB draws (Sensitivity.DeltaL).
	MinDelta float64
}

// Live are the thresholds of a live latent space: at least 80 % of samples
// add a pathology, one slice's samples overlap with a mean IoU of at most
// 0.6, and redrawing δB moves GA's labelmap by at least 0.01 per pixel
// (the threshold sits between the collapsed and the live models measured
// in docs/model.md, "Other measurements behind defaults").
var Live = Thresholds{MinNonEmpty: 0.8, MaxIoU: 0.6, MinDelta: 0.01}

// Collapsed returns an error that says which threshold the report misses,
// or nil when its latent space is live by t.
func (r Report) Collapsed(t Thresholds) error {
	var why []string
	if r.Samples.NonEmpty < t.MinNonEmpty {
		why = append(why, fmt.Sprintf("%.2f of the samples add a pathology (want >= %.2f)", r.Samples.NonEmpty, t.MinNonEmpty))
	}
	if r.Samples.MeanPairwiseIoU > t.MaxIoU {
		why = append(why, fmt.Sprintf("one slice's samples overlap with mean IoU %.2f (want <= %.2f)", r.Samples.MeanPairwiseIoU, t.MaxIoU))
	}
	if r.Sensitivity.DeltaL < t.MinDelta {
		why = append(why, fmt.Sprintf("redrawing δB moves GA's labelmap by %.4f per pixel (want >= %.4f)", r.Sensitivity.DeltaL, t.MinDelta))
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("diagnose: latent space collapsed: %s", strings.Join(why, "; "))
}

// PlaceCode says whether δB carries where a tumour is. Each pathological
// slice's code δB = ∆B(l̂B ⊙ xB) (its mean) is decoded by EA twice: into the
// slice's own healthy translation ŷA with γA = ΓA(ŷA), as the B → A → B
// cycle does (Cycle), and into a healthy slice with that slice's γA, so that
// only δB comes from the tumour (Healthy). Each result's mask centroid is
// compared with the centroid of the tumour δB was encoded from and with
// that of another slice's tumour (PlaceDistances).
type PlaceCode struct {
	Cycle   PlaceDistances `json:"cycle"`
	Healthy PlaceDistances `json:"healthy"`
}

// PlaceDistances compares where decoded lesions land with where the
// tumours their codes came from lie.
type PlaceDistances struct {
	// Landed is the share of decodings whose mask has a connected region
	// larger than Options.MinRegion pixels; the distances are over those.
	Landed float64 `json:"landed"`
	// Own is the mean distance (px) of a landed lesion's centroid from the
	// centroid of the tumour its δB was encoded from; Other the mean
	// distance from another slice's tumour (half the list away), the
	// distance a code that carries no place gives.
	Own   float64 `json:"own_px"`
	Other float64 `json:"other_px"`
	// Ratio is Own / Other: near 0 when δB sets the place, near 1 when
	// the place comes from elsewhere (the image, γA or EA's own bias); 0,
	// like the distances, when nothing landed.
	Ratio float64 `json:"ratio"`
}

// MeasurePlaceCode computes PlaceCode for the pathological images xp
// ([n][h][w][c], n >= 2), whose tumours' centroids are ty, tx, decoding
// into the healthy images xh (slice k into xh's slice k mod len).
func MeasurePlaceCode(m *pathogan.Inference, xp []float32, ty, tx []float64, xh []float32, threshold float64, minRegion int) (PlaceCode, error) {
	cfg := m.Cfg
	per := cfg.Size * cfg.Size * cfg.Channels
	n, nh := len(xp)/per, len(xh)/per
	if n < 2 || nh < 1 || len(ty) != n || len(tx) != n {
		return PlaceCode{}, fmt.Errorf("diagnose: place code needs at least 2 pathological slices with centroids and a healthy slice (got %d, %d centroids, %d)", n, len(ty), nh)
	}
	delta, _, err := m.EncodeDelta(xp)
	if err != nil {
		return PlaceCode{}, err
	}
	healthy, err := m.ToHealthy(xp)
	if err != nil {
		return PlaceCode{}, err
	}
	into := make([]float32, 0, n*per)
	for k := range n {
		into = append(into, xh[(k%nh)*per:(k%nh+1)*per]...)
	}
	var pc PlaceCode
	for _, c := range []struct {
		x   []float32
		out *PlaceDistances
	}{{healthy.Output, &pc.Cycle}, {into, &pc.Healthy}} {
		gamma, _, err := m.EncodeGamma(c.x)
		if err != nil {
			return PlaceCode{}, err
		}
		tr, err := m.Decode(c.x, gamma, delta)
		if err != nil {
			return PlaceCode{}, err
		}
		*c.out = placeDistances(tr.Labelmap, cfg.Size, ty, tx, threshold, minRegion)
	}
	return pc, nil
}

// placeDistances scores the labelmaps l ([n][size][size]) against the
// tumour centroids ty, tx: slice k's own tumour is k, the other k + n/2 (mod
// n), half the list away, so that with slices in patient order it is
// usually another patient's.
func placeDistances(l []float32, size int, ty, tx []float64, threshold float64, minRegion int) PlaceDistances {
	px, n := size*size, len(ty)
	var d PlaceDistances
	landed := 0
	for k := range n {
		mask := Mask(l[k*px:(k+1)*px], threshold)
		if LargestRegion(mask, size, size) <= minRegion {
			continue
		}
		landed++
		y, x := Centroid(mask, size)
		o := (k + n/2) % n
		d.Own += math.Hypot(y-ty[k], x-tx[k])
		d.Other += math.Hypot(y-ty[o], x-tx[o])
	}
	d.Landed = float64(landed) / float64(n)
	if landed > 0 {
		d.Own /= float64(landed)
		d.Other /= float64(landed)
		d.Ratio = ratio(d.Own, d.Other)
	}
	return d
}
