package evaluate

import (
	"fmt"
	"math"
	"slices"

	"github.com/pathogan-go/pathogan/data"
)

// HealthyFunc turns pathological images x, [n][h][w][c] float32 (NHWC), into
// their healthy versions: inpainting is the inpainted image p̂B (the
// generator's healthy estimate over the whole image) and output the final
// healthy image ŷA, both of x's shape. PathoGAN's generator GB gives both.
type HealthyFunc func(x []float32) (inpainting, output []float32, err error)

// InpaintScore is the score of a HealthyFunc against the healthy ground
// truth y* of a prepared set (data.HealthyFile). T is the whole-tumour truth
// mask (label > 0) and the brain is the pixels where any channel of the
// input x is non-zero. Each MAE is a mean absolute error in the set's
// normalised units, per channel (FLAIR, T1, T1CE, T2), pooled over the
// pixels of all slices (sum of absolute errors / pixel count); the Mean
// fields average it over the channels.
type InpaintScore struct {
	// Slices is the number of slices scored.
	Slices int `json:"slices"`
	// TumourPixels counts the pixels of T, OutsidePixels the brain pixels
	// outside T, over all slices.
	TumourPixels  int `json:"tumour_pixels"`
	OutsidePixels int `json:"outside_pixels"`
	// Threshold is the segmentation threshold passed to ScoreInpainting,
	// recorded with the score; the pixel metrics do not depend on it.
	Threshold float64 `json:"threshold"`

	// MAETumourInpainting is mean |p̂B − y*| over T: how well the
	// inpainting restores the healthy tissue under the tumour.
	MAETumourInpainting []float64 `json:"mae_tumour_inpainting"`
	// MAETumour is mean |ŷA − y*| over T, for the final healthy image.
	MAETumour []float64 `json:"mae_tumour"`
	// MAEOutside is mean |ŷA − x| over the brain outside T: how much ŷA
	// changes healthy tissue (0 when there is no such pixel).
	MAEOutside []float64 `json:"mae_outside"`
	// MAEOutsideInpainting is mean |p̂B − x| over the brain outside T: how well the
	// inpainting reproduces the healthy tissue it is given (eq. 11 asks for it wherever
	// the labelmap is 0).
	MAEOutsideInpainting []float64 `json:"mae_outside_inpainting"`
	// MAEBaseline is the trivial baseline's mean |b − y*| over T, where b
	// fills T with the slice's channel mean over healthy brain tissue (brain
	// pixels outside T; 0 when the slice has none).
	MAEBaseline []float64 `json:"mae_baseline"`

	// MeanTumourInpainting, MeanTumour, MeanOutside and MeanBaseline are
	// the channel means of the four MAEs.
	MeanTumourInpainting float64 `json:"mean_tumour_inpainting"`
	MeanTumour           float64 `json:"mean_tumour"`
	MeanOutside          float64 `json:"mean_outside"`
	MeanBaseline         float64 `json:"mean_baseline"`
	// MeanOutsideInpainting is the channel mean of MAEOutsideInpainting.
	MeanOutsideInpainting float64 `json:"mean_outside_inpainting"`

	// RelevancyPull is the share of the brain pixels outside T at which |x − p̂B|
	// (channel mean) exceeds its mean over the same slice's T. Eq. 15 rewards a labelmap
	// by the mean of |x − p̂B| under it, so labelling such a healthy pixel raises the
	// reward over labelling the tumour alone: the higher the share, the more the
	// relevancy term pulls GB's labelmap onto healthy tissue (false positives).
	RelevancyPull float64 `json:"relevancy_pull"`

	// DetailInpainting is how much fine structure p̂B has over the brain, relative to the
	// healthy truth: the sum of |differences| between horizontally and vertically adjacent
	// brain pixels of p̂B, over all channels and slices, divided by the same sum for y*. 1 is
	// as much local contrast as real tissue; a blurred inpainting scores below 1, a grid or
	// noise above. The MAEs cannot tell a blur from tissue: a blur is close to the mean.
	DetailInpainting float64 `json:"detail_inpainting"`
	// DetailTumour is the same ratio for ŷA over adjacent tumour pixels, the region GB
	// paints over (the trivial baseline's constant fill scores 0 there).
	DetailTumour float64 `json:"detail_tumour"`
}

// inpaintBatch is the number of slices ScoreInpainting passes to the
// HealthyFunc at once.
const inpaintBatch = 8

// ScoreInpainting runs f on the given slices of set (pathological ones: the
// scores need tumour pixels) in batches and scores the results against the
// set's healthy counterparts (see InpaintScore). threshold is only recorded
// in the score. It returns an error when the set has no healthy
// counterparts, when f fails or returns images of the wrong size, or when
// the slices hold no tumour pixel.
func ScoreInpainting(f HealthyFunc, set *data.Set, indices []int, threshold float64) (InpaintScore, error) {
	h, w, c := set.Height, set.Width, set.Channels
	sc := InpaintScore{Threshold: threshold}
	if !set.HasHealthy() {
		return sc, fmt.Errorf("evaluate: %s has no %s, the healthy ground truth for inpainting: prepare the set from patients with healthy counterparts (<id>_healthy_<mod>.nii.gz, which `pathogan phantom` writes)", set.Dir, data.HealthyFile)
	}
	if len(indices) == 0 {
		return sc, fmt.Errorf("evaluate: no slices to score inpainting on")
	}
	per, px := h*w*c, h*w
	sumInp := make([]float64, c)
	sumOut := make([]float64, c)
	sumOutside := make([]float64, c)
	sumBase := make([]float64, c)
	sumOutsideInp := make([]float64, c)
	pulled := 0
	diff := make([]float64, px)
	baseMean := make([]float64, c)
	x := make([]float32, inpaintBatch*per)
	truth := make([][]float32, inpaintBatch)
	labels := make([][]uint8, inpaintBatch)
	brain := make([]bool, px)
	var det detailSums
	for lo := 0; lo < len(indices); lo += inpaintBatch {
		hi := min(lo+inpaintBatch, len(indices))
		n := hi - lo
		for k, idx := range indices[lo:hi] {
			var err error
			if _, err = set.Image(idx, x[k*per:(k+1)*per]); err != nil {
				return sc, err
			}
			if truth[k], err = set.Healthy(idx, truth[k]); err != nil {
				return sc, err
			}
			if labels[k], err = set.Label(idx, labels[k]); err != nil {
				return sc, err
			}
		}
		xb := x[:n*per]
		inp, out, err := f(slices.Clone(xb)) // f may not change x
		if err != nil {
			return sc, err
		}
		if len(inp) != len(xb) || len(out) != len(xb) {
			return sc, fmt.Errorf("evaluate: the model returned %d inpainting and %d output values for %d slices of %dx%dx%d (want %d each)", len(inp), len(out), n, h, w, c, len(xb))
		}
		for k := range n {
			xs, ys := xb[k*per:(k+1)*per], truth[k]
			ps, outs := inp[k*per:(k+1)*per], out[k*per:(k+1)*per]
			lab := labels[k]
			// brain mask and the baseline's healthy-tissue means
			clear(baseMean)
			nHealthy := 0
			for p := range px {
				brain[p] = false
				for ch := range c {
					if xs[p*c+ch] != 0 {
						brain[p] = true
						break
					}
				}
				if brain[p] && lab[p] == 0 {
					nHealthy++
					for ch := range c {
						baseMean[ch] += float64(xs[p*c+ch])
					}
				}
			}
			if nHealthy > 0 {
				for ch := range c {
					baseMean[ch] /= float64(nHealthy)
				}
			}
			det.add(ps, outs, ys, brain, lab, h, w, c)
			pulled += countPulled(diff, xs, ps, brain, lab, c)
			for p := range px {
				switch {
				case lab[p] != 0:
					sc.TumourPixels++
					for ch := range c {
						i := p*c + ch
						y := float64(ys[i])
						sumInp[ch] += math.Abs(float64(ps[i]) - y)
						sumOut[ch] += math.Abs(float64(outs[i]) - y)
						sumBase[ch] += math.Abs(baseMean[ch] - y)
					}
				case brain[p]:
					sc.OutsidePixels++
					for ch := range c {
						i := p*c + ch
						sumOutside[ch] += math.Abs(float64(outs[i]) - float64(xs[i]))
						sumOutsideInp[ch] += math.Abs(float64(ps[i]) - float64(xs[i]))
					}
				}
			}
		}
		sc.Slices += n
	}
	if sc.TumourPixels == 0 {
		return sc, fmt.Errorf("evaluate: the %d slices hold no tumour pixel: score inpainting on pathological slices", len(indices))
	}
	mean := func(sum []float64, count int) ([]float64, float64) {
		v := make([]float64, c)
		var m float64
		if count == 0 {
			return v, 0
		}
		for ch := range c {
			v[ch] = sum[ch] / float64(count)
			m += v[ch]
		}
		return v, m / float64(c)
	}
	sc.MAETumourInpainting, sc.MeanTumourInpainting = mean(sumInp, sc.TumourPixels)
	sc.MAETumour, sc.MeanTumour = mean(sumOut, sc.TumourPixels)
	sc.MAEOutside, sc.MeanOutside = mean(sumOutside, sc.OutsidePixels)
	sc.MAEBaseline, sc.MeanBaseline = mean(sumBase, sc.TumourPixels)
	sc.MAEOutsideInpainting, sc.MeanOutsideInpainting = mean(sumOutsideInp, sc.OutsidePixels)
	sc.RelevancyPull = ratioOrZero(float64(pulled), float64(sc.OutsidePixels))
	sc.DetailInpainting = ratioOrZero(det.inpainting, det.truthBrain)
	sc.DetailTumour = ratioOrZero(det.output, det.truthTumour)
	return sc, nil
}

// detailSums accumulates the sums of |differences between adjacent pixels| behind
// InpaintScore's detail ratios.
type detailSums struct {
	inpainting, truthBrain float64 // p̂B and y* over pairs of brain pixels
	output, truthTumour    float64 // ŷA and y* over pairs of tumour pixels
}

// add adds one slice: inp (p̂B), out (ŷA) and truth (y*), h×w×c, with its brain mask and labels.
func (d *detailSums) add(inp, out, truth []float32, brain []bool, lab []uint8, h, w, c int) {
	pair := func(p, q int) {
		inBrain, inTumour := brain[p] && brain[q], lab[p] != 0 && lab[q] != 0
		if !inBrain && !inTumour {
			return
		}
		for ch := range c {
			i, j := p*c+ch, q*c+ch
			t := math.Abs(float64(truth[j]) - float64(truth[i]))
			if inBrain {
				d.inpainting += math.Abs(float64(inp[j]) - float64(inp[i]))
				d.truthBrain += t
			}
			if inTumour {
				d.output += math.Abs(float64(out[j]) - float64(out[i]))
				d.truthTumour += t
			}
		}
	}
	for y := range h {
		for x := range w {
			p := y*w + x
			if x+1 < w {
				pair(p, p+1)
			}
			if y+1 < h {
				pair(p, p+w)
			}
		}
	}
}

// countPulled counts one slice's brain pixels outside the tumour whose |x − p̂B| (mean over
// the c channels of x and inp) exceeds its mean over the tumour (RelevancyPull); none when
// the slice has no tumour pixel. diff is scratch space of one value per pixel.
func countPulled(diff []float64, x, inp []float32, brain []bool, lab []uint8, c int) int {
	var sumT float64
	nT := 0
	for p := range diff {
		diff[p] = 0
		for ch := range c {
			diff[p] += math.Abs(float64(x[p*c+ch]) - float64(inp[p*c+ch]))
		}
		diff[p] /= float64(c)
		if lab[p] != 0 {
			sumT += diff[p]
			nT++
		}
	}
	if nT == 0 {
		return 0
	}
	meanT, n := sumT/float64(nT), 0
	for p, d := range diff {
		if brain[p] && lab[p] == 0 && d > meanT {
			n++
		}
	}
	return n
}

// ratioOrZero is a/b, or 0 when b is 0.
func ratioOrZero(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
