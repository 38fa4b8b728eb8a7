// Package segment runs a trained model on a whole patient: it reads the
// four scans as prepare does (data.LoadScans), cuts every selected axial
// slice to the model's size as prepare does (data.Geometry), runs the
// model, and maps its outputs back onto the input's grid. The result is a
// tumour probability volume, a mask and, for PathoGAN, the healthy-looking
// scans in the input's intensity units, written as NIfTI volumes that carry
// the input's grid, voxel sizes, qform and sform, so they open on top of
// the original scans in any viewer.
package segment

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/evaluate"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/mdgru"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
	"github.com/pathogan-go/pathogan/pathogan/unet"
)

// Healer gives, for images [n][h][w][c], the labelmap l̂B and the
// inpainting p̂B of PathoGAN's generator GB (paper eq. 1: ŷA = l̂B ⊙ p̂B +
// (1 - l̂B) ⊙ xB).
type Healer interface {
	ToHealthy(x []float32) (pathogan.Translation, error)
}

// Model is a trained model ready to segment: PathoGAN or the U-Net.
type Model struct {
	// Name is the model's kind, "pathogan" or "unet"; output files carry it.
	Name string
	// Preset is the configuration preset it was trained with.
	Preset string
	// Size and Channels are the model's input: Size x Size x Channels.
	Size, Channels int
	// Threshold turns probabilities into the mask.
	Threshold float64
	// Step is the training step of the checkpoint; Path its file.
	Step int
	Path string
	// Segmenter gives tumour probabilities [n][h][w].
	Segmenter evaluate.Segmenter
	// Healer is PathoGAN's GB; nil for a model without an inpainting.
	Healer Healer
}

// Load loads the model of a run folder, a checkpoints folder or a
// checkpoint file, PathoGAN or U-Net, told apart by the checkpoint's
// header. Damaged newer checkpoints passed over are returned in skipped.
func Load(b backends.Backend, path string) (m *Model, skipped []error, err error) {
	file, skipped, err := checkpoint.Find(path)
	if err != nil {
		return nil, nil, err
	}
	h, err := checkpoint.ReadHeader(file)
	if err != nil {
		return nil, skipped, err
	}
	switch h.Model {
	case unet.ModelName, mdgru.ModelName:
		decode := unet.Decode
		if h.Model == mdgru.ModelName {
			decode = mdgru.Decode
		}
		u, err := supervised.LoadInference(b, file, decode)
		if err != nil {
			return nil, skipped, err
		}
		c := u.Model.Settings()
		return &Model{Name: c.Model, Preset: c.Preset, Size: c.Size, Channels: c.Channels, Threshold: c.Threshold,
			Step: u.Step, Path: file, Segmenter: u}, skipped, nil
	case "", pathogan.ModelName:
		p, err := pathogan.LoadInference(b, file)
		if err != nil {
			return nil, skipped, err
		}
		return FromPathoGAN(p), skipped, nil
	}
	return nil, skipped, fmt.Errorf("%s: unknown model %q", file, h.Model)
}

// FromPathoGAN wraps a loaded PathoGAN (for example the shipped model).
func FromPathoGAN(p *pathogan.Inference) *Model {
	return &Model{Name: pathogan.ModelName, Preset: p.Cfg.Preset, Size: p.Cfg.Size, Channels: p.Cfg.Channels, Threshold: p.Cfg.Threshold,
		Step: p.Step, Path: p.Path, Segmenter: p, Healer: p}
}

// Options of a segmentation.
type Options struct {
	// SliceMin and SliceMax are the axial slices segmented, inclusive;
	// SliceMax < 0 means the last slice. Other slices are 0 in the
	// labelmap and unchanged in the healthy volume.
	SliceMin, SliceMax int
	// Crop is the central crop prepare applied before resizing (its
	// --crop; 0: none).
	Crop int
	// Threshold overrides the model's threshold when > 0.
	Threshold float64
	// Batch is the number of slices run at once (default 8).
	Batch int
}

// Result is one patient segmented. Volumes are on the input's grid, in
// NIfTI order (x fastest).
type Result struct {
	Scans *data.Scans
	// Model is the model's kind ("pathogan" or "unet").
	Model string
	// SliceMin and SliceMax are the slices segmented.
	SliceMin, SliceMax int
	// Threshold is the one Mask was made with (p >= Threshold, as
	// metrics.Threshold and eval).
	Threshold float64
	// Prob is the tumour probability, Mask its thresholded mask (1 = tumour).
	Prob []float32
	Mask []uint8

	geom data.Geometry
	// inpaint holds, per segmented slice, the model-size inpainting p̂B
	// [Size][Size][c] (nil without a Healer).
	inpaint [][]float32
}

// Run segments the selected axial slices of scans with m. progress, if not
// nil, is called after each slice with the slices done.
func Run(m *Model, scans *data.Scans, opt Options, progress func(done, total int)) (*Result, error) {
	if m.Channels != data.NumModalities {
		return nil, fmt.Errorf("%s: the model takes %d channels, a patient has %d scans (%s)", m.Path, m.Channels, data.NumModalities, scans.Files[data.FLAIR])
	}
	nx, ny, nz := scans.Shape[0], scans.Shape[1], scans.Shape[2]
	lo, hi := opt.SliceMin, opt.SliceMax
	if hi < 0 {
		hi = nz - 1
	}
	if lo < 0 || lo > hi || hi >= nz {
		return nil, fmt.Errorf("%s: slices %d..%d: the scan has axial slices 0..%d", scans.Files[data.FLAIR], opt.SliceMin, opt.SliceMax, nz-1)
	}
	if opt.Crop < 0 || opt.Crop > data.MaxSliceSize {
		return nil, fmt.Errorf("crop %d: want 0 (none) to %d", opt.Crop, data.MaxSliceSize)
	}
	thr := m.Threshold
	if opt.Threshold > 0 {
		thr = opt.Threshold
	}
	if !(thr > 0 && thr < 1) {
		return nil, fmt.Errorf("threshold %g: want a value in (0, 1)", thr)
	}
	batch := opt.Batch
	if batch < 1 {
		batch = 8
	}
	g := data.Geometry{Height: ny, Width: nx, Crop: opt.Crop, Size: m.Size}
	r := &Result{Scans: scans, Model: m.Name, SliceMin: lo, SliceMax: hi, Threshold: thr, geom: g,
		Prob: make([]float32, nx*ny*nz), Mask: make([]uint8, nx*ny*nz)}
	per, px := m.Size*m.Size*m.Channels, m.Size*m.Size
	x := make([]float32, 0, batch*per)
	total := hi - lo + 1
	for z0 := lo; z0 <= hi; z0 += batch {
		z1 := min(z0+batch, hi+1)
		x = x[:0]
		for z := z0; z < z1; z++ {
			x = append(x, g.Cut(scans.Slice(z), data.NumModalities)...)
		}
		var probs []float32
		if m.Healer != nil {
			tr, err := m.Healer.ToHealthy(x)
			if err != nil {
				return nil, err
			}
			probs = tr.Labelmap
			for k := range z1 - z0 {
				r.inpaint = append(r.inpaint, tr.Inpainting[k*per:(k+1)*per])
			}
		} else {
			var err error
			if probs, err = m.Segmenter.Segment(x); err != nil {
				return nil, err
			}
		}
		if len(probs) != (z1-z0)*px {
			return nil, fmt.Errorf("%s: the model returned %d values for %d slices of %dx%d", m.Path, len(probs), z1-z0, m.Size, m.Size)
		}
		for k := range z1 - z0 {
			z := z0 + k
			up := g.Uncut(probs[k*px:(k+1)*px], 1)
			for i, p := range up {
				v := z*nx*ny + i
				r.Prob[v] = p
				if float64(p) >= thr {
					r.Mask[v] = 1
				}
			}
			if progress != nil {
				progress(z+1-lo, total)
			}
		}
	}
	return r, nil
}

// HasHealthy reports whether the result holds an inpainting (PathoGAN).
func (r *Result) HasHealthy() bool { return r.inpaint != nil }

// Healthy returns the healthy-looking volume of modality mod in the input's
// intensity units: on the segmented slices, the model's composition (paper
// eq. 1) at the input's resolution,
//
//	ŷ = l ⊙ p + (1 - l) ⊙ x,
//
// with l the probability volume, p the inpainting p̂B resampled onto the
// grid and mapped back to the scan's units (data.Scans.Mean, Std), and x
// the input scan; elsewhere, and outside the brain (voxels that are 0 in
// x), it is x. It returns nil for a model without an inpainting.
func (r *Result) Healthy(mod data.Modality) ([]float32, error) {
	if !r.HasHealthy() {
		return nil, nil
	}
	orig, err := r.original(mod)
	if err != nil {
		return nil, err
	}
	nx, ny := r.Scans.Shape[0], r.Scans.Shape[1]
	c := data.NumModalities
	mean, scale := r.Scans.Mean[mod], 3*r.Scans.Std[mod]
	for k, inp := range r.inpaint {
		z := r.SliceMin + k
		// one channel of the inpainting, back on the native slice
		ch := make([]float32, len(inp)/c)
		for i := range ch {
			ch[i] = inp[i*c+int(mod)]
		}
		up := r.geom.Uncut(ch, 1)
		for i, p := range up {
			v := z*nx*ny + i
			x := orig[v]
			if x == 0 {
				continue
			}
			l := r.Prob[v]
			orig[v] = l*float32(mean+scale*float64(p)) + (1-l)*x
		}
	}
	return orig, nil
}

// original returns a fresh copy of scan mod in its own units.
func (r *Result) original(mod data.Modality) ([]float32, error) {
	im, err := readScan(r.Scans.Files[mod])
	if err != nil {
		return nil, err
	}
	v := im.Float32s()
	if len(v) != len(r.Prob) {
		return nil, fmt.Errorf("%s: %d voxels, the segmentation has %d (the file changed since it was read)", r.Scans.Files[mod], len(v), len(r.Prob))
	}
	return v, nil
}

// Dice returns the volumetric Dice of r.Mask against a label volume (whole
// tumour: label > 0) over axial slices lo..hi, and the voxel counts behind
// it. Both empty gives NaN.
func (r *Result) Dice(labels []uint8, lo, hi int) (dice float64, overlap, predicted, truth int, err error) {
	if len(labels) != len(r.Mask) {
		return 0, 0, 0, 0, fmt.Errorf("labels: %d voxels, the segmentation has %d", len(labels), len(r.Mask))
	}
	n := r.Scans.Shape[0] * r.Scans.Shape[1]
	if lo < 0 || hi < lo || (hi+1)*n > len(labels) {
		return 0, 0, 0, 0, fmt.Errorf("slices %d..%d: the volume has %d", lo, hi, len(labels)/n)
	}
	overlap, predicted, truth = metrics.Overlap(r.Mask[lo*n:(hi+1)*n], labels[lo*n:(hi+1)*n])
	if predicted+truth == 0 {
		return math.NaN(), 0, 0, 0, nil
	}
	return 2 * float64(overlap) / float64(predicted+truth), overlap, predicted, truth, nil
}
