package segment

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/nifti"
	"github.com/pathogan-go/pathogan/viz"
)

// readScan reads one scan (a var so that a test can count the reads).
var readScan = nifti.ReadFile

// Files names the outputs of one patient segmented by one model.
type Files struct {
	// Prob is <id>_<model>_prob.nii.gz (float32 probability), Seg
	// <id>_<model>_seg.nii.gz (uint8, 1 = tumour).
	Prob, Seg string
	// Healthy are <id>_<model>_healthy_<mod>.nii.gz, the healthy-looking
	// scans in the input's units, indexed by modality; empty for a model
	// without an inpainting. The model's name keeps them apart from the
	// phantom's ground truth <id>_healthy_<mod>.nii.gz.
	Healthy [data.NumModalities]string
	// Montage is <id>_<model>_montage.png.
	Montage string
}

// FileNames returns the paths Write writes for patient id into dir.
func FileNames(dir, id, model string, healthy bool) Files {
	base := filepath.Join(dir, id+"_"+model)
	f := Files{Prob: base + "_prob.nii.gz", Seg: base + "_seg.nii.gz", Montage: base + "_montage.png"}
	if healthy {
		for m := range data.NumModalities {
			f.Healthy[m] = base + "_healthy_" + data.Modality(m).String() + ".nii.gz"
		}
	}
	return f
}

// List returns the paths in f, in the order Write writes them.
func (f Files) List() []string {
	out := []string{f.Prob, f.Seg}
	for _, h := range f.Healthy {
		if h != "" {
			out = append(out, h)
		}
	}
	return append(out, f.Montage)
}

// Write writes the result for patient id into dir (created if needed): the
// probability, the mask and (PathoGAN) the four healthy volumes, each on
// the input's grid with the FLAIR's voxel sizes, qform and sform, and the
// montage (labels, if not nil, adds the true outline to it). Each file is
// written under a temporary name and renamed into place; when one fails,
// the files this call already wrote are removed, so nothing partial is
// left. Healthy volumes are made one at a time, so memory stays at about
// the input's size.
func Write(dir, id string, r *Result, labels []uint8) (f Files, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, err
	}
	f = FileNames(dir, id, r.Model, r.HasHealthy())
	var written []string
	defer func() {
		if err != nil {
			for _, p := range written {
				os.Remove(p)
			}
		}
	}()
	put := func(path string, dt nifti.Datatype, vals []float32, what string) error {
		im, err := r.volume(dt, vals, what)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := nifti.WriteFile(path, im); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	if err := put(f.Prob, nifti.Float32, r.Prob, r.Model+" tumour probability"); err != nil {
		return f, err
	}
	mask := make([]float32, len(r.Mask))
	for i, m := range r.Mask {
		mask[i] = float32(m)
	}
	if err := put(f.Seg, nifti.Uint8, mask, fmt.Sprintf("%s tumour mask (p >= %g)", r.Model, r.Threshold)); err != nil {
		return f, err
	}
	mask = nil
	for m, path := range f.Healthy {
		if path == "" {
			continue
		}
		h, err := r.Healthy(data.Modality(m))
		if err != nil {
			return f, err
		}
		if err := put(path, nifti.Float32, h, r.Model+" healthy "+data.Modality(m).String()); err != nil {
			return f, err
		}
	}
	img, err := r.Montage(labels, 6)
	if err != nil {
		return f, err
	}
	if err := viz.WritePNG(f.Montage, img); err != nil {
		return f, err
	}
	written = append(written, f.Montage)
	return f, nil
}

// volume returns vals as a NIfTI image with the input's shape and the
// FLAIR's spatial header: voxel sizes, units, qform and sform.
func (r *Result) volume(dt nifti.Datatype, vals []float32, descrip string) (*nifti.Image, error) {
	src := r.Scans.Headers[data.FLAIR]
	im, err := nifti.FromFloat32(src.Shape(), dt, vals)
	if err != nil {
		return nil, err
	}
	h := &im.Header
	h.Pixdim = src.Pixdim
	h.XYZTUnits = src.XYZTUnits
	h.QformCode, h.SformCode = src.QformCode, src.SformCode
	h.QuaternB, h.QuaternC, h.QuaternD, h.QOffset = src.QuaternB, src.QuaternC, src.QuaternD, src.QOffset
	h.Srow = src.Srow
	if len(descrip) > 79 {
		descrip = descrip[:79]
	}
	h.Descrip = descrip
	return im, nil
}

// Montage shows n of the segmented slices, spread evenly over those with a
// mask (over all segmented slices when fewer have one):
// the FLAIR with the mask's outline (red) and, when labels is not nil, the
// true whole tumour's (green); below, for PathoGAN, the healthy FLAIR.
func (r *Result) Montage(labels []uint8, n int) (image.Image, error) {
	if labels != nil && len(labels) != len(r.Mask) {
		return nil, errors.New("montage: the labels are not on the segmentation's grid")
	}
	zs := r.pickSlices(n)
	nx, ny := r.Scans.Shape[0], r.Scans.Shape[1]
	var healthy []float32
	if r.HasHealthy() {
		h, err := r.Healthy(data.FLAIR)
		if err != nil {
			return nil, err
		}
		data.NormalizeWith(h, r.Scans.Mean[data.FLAIR], r.Scans.Std[data.FLAIR])
		healthy = h
	}
	var top, bottom []viz.Panel
	for _, z := range zs {
		plane := r.Scans.Norm[data.FLAIR][z*nx*ny : (z+1)*nx*ny]
		img := viz.MustImage(ny, nx, 1, plane)
		outs := []viz.Outline{{Mask: toFloat(r.Mask[z*nx*ny : (z+1)*nx*ny]), Threshold: 0.5, Color: color.RGBA{230, 40, 40, 255}, Name: r.Model}}
		if labels != nil {
			outs = append(outs, viz.Outline{Mask: toFloat(labels[z*nx*ny : (z+1)*nx*ny]), Threshold: 0.5, Color: color.RGBA{40, 200, 60, 255}, Name: "truth"})
		}
		top = append(top, viz.Panel{Image: img, Outlines: outs, Caption: fmt.Sprintf("z %d FLAIR", z)})
		if healthy != nil {
			bottom = append(bottom, viz.Panel{Image: viz.MustImage(ny, nx, 1, healthy[z*nx*ny:(z+1)*nx*ny]), Caption: "healthy"})
		}
	}
	rows := [][]viz.Panel{top}
	if bottom != nil {
		rows = append(rows, bottom)
	}
	return viz.Montage(rows, 1), nil
}

// pickSlices returns up to n segmented slices in order, evenly spaced over
// those with a mask, or over all when fewer than n have one.
func (r *Result) pickSlices(n int) []int {
	nx, ny := r.Scans.Shape[0], r.Scans.Shape[1]
	type area struct{ z, a int }
	var as []area // slices with a mask
	for z := r.SliceMin; z <= r.SliceMax; z++ {
		a := 0
		for _, m := range r.Mask[z*nx*ny : (z+1)*nx*ny] {
			a += int(m)
		}
		if a > 0 {
			as = append(as, area{z, a})
		}
	}
	total := r.SliceMax - r.SliceMin + 1
	n = min(n, total)
	chosen := map[int]bool{}
	if len(as) >= n {
		// spread over the slices with a mask
		for i := range n {
			chosen[as[(2*i+1)*len(as)/(2*n)].z] = true
		}
	} else {
		for i := range n {
			chosen[r.SliceMin+(2*i+1)*total/(2*n)] = true
		}
	}
	var zs []int
	for z := r.SliceMin; z <= r.SliceMax; z++ {
		if chosen[z] {
			zs = append(zs, z)
		}
	}
	return zs
}

func toFloat(m []uint8) []float32 {
	out := make([]float32, len(m))
	for i, v := range m {
		out[i] = float32(v)
	}
	return out
}

// Views shows the FLAIR through voxel (x, y, z) in three orthogonal planes,
// axial (z), coronal (y) and sagittal (x), with the mask's outline (red)
// and, when labels is not nil, the true whole tumour's (green); coronal and
// sagittal planes have the last axis upwards. Voxels are drawn square
// whatever their size.
func (r *Result) Views(x, y, z int, labels []uint8) (image.Image, error) {
	s := r.Scans.Shape
	if x < 0 || y < 0 || z < 0 || x >= s[0] || y >= s[1] || z >= s[2] {
		return nil, fmt.Errorf("views: voxel (%d, %d, %d) outside the grid %v", x, y, z, s)
	}
	if labels != nil && len(labels) != len(r.Mask) {
		return nil, errors.New("views: the labels are not on the segmentation's grid")
	}
	flair := r.Scans.Norm[data.FLAIR]
	// plane cuts an h x w plane; at(i, j) is the voxel index of row i, column j.
	plane := func(h, w int, at func(i, j int) int) (img, mask, truth []float32) {
		img, mask = make([]float32, h*w), make([]float32, h*w)
		if labels != nil {
			truth = make([]float32, h*w)
		}
		for i := range h {
			for j := range w {
				v := at(i, j)
				img[i*w+j], mask[i*w+j] = flair[v], float32(r.Mask[v])
				if labels != nil && labels[v] > 0 {
					truth[i*w+j] = 1
				}
			}
		}
		return img, mask, truth
	}
	idx := func(x, y, z int) int { return (z*s[1]+y)*s[0] + x }
	type view struct {
		name string
		h, w int
		at   func(i, j int) int
	}
	views := []view{
		{fmt.Sprintf("axial z %d", z), s[1], s[0], func(i, j int) int { return idx(j, i, z) }},
		{fmt.Sprintf("coronal y %d", y), s[2], s[0], func(i, j int) int { return idx(j, y, s[2]-1-i) }},
		{fmt.Sprintf("sagittal x %d", x), s[2], s[1], func(i, j int) int { return idx(x, j, s[2]-1-i) }},
	}
	var row []viz.Panel
	for _, v := range views {
		img, mask, truth := plane(v.h, v.w, v.at)
		outs := []viz.Outline{{Mask: mask, Threshold: 0.5, Color: color.RGBA{230, 40, 40, 255}, Name: r.Model}}
		if truth != nil {
			outs = append(outs, viz.Outline{Mask: truth, Threshold: 0.5, Color: color.RGBA{40, 200, 60, 255}, Name: "truth"})
		}
		row = append(row, viz.Panel{Image: viz.MustImage(v.h, v.w, 1, img), Outlines: outs, Caption: v.name})
	}
	return viz.Montage([][]viz.Panel{row}, 1), nil
}

// Centre returns the mask's centre of mass, rounded to a voxel, or the
// middle of the segmented slices when the mask is empty: a place to look.
func (r *Result) Centre() (x, y, z int) {
	s := r.Scans.Shape
	var sx, sy, sz, n float64
	for v, m := range r.Mask {
		if m == 0 {
			continue
		}
		sx += float64(v % s[0])
		sy += float64(v / s[0] % s[1])
		sz += float64(v / (s[0] * s[1]))
		n++
	}
	if n == 0 {
		return s[0] / 2, s[1] / 2, (r.SliceMin + r.SliceMax) / 2
	}
	return int(math.Round(sx / n)), int(math.Round(sy / n)), int(math.Round(sz / n))
}
