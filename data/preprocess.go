package data

import (
	"fmt"
	"math"

	"github.com/pathogan-go/pathogan/data/nifti"
)

// NormalizeNonZero normalises one scan in place as the paper's section 2.5
// says: the non-zero voxels are shifted and scaled to mean 0 and standard
// deviation 1/3,
//
//	v' = clip((v - μ) / (3σ), -1, 1)   for v ≠ 0,
//
// where μ and σ are the mean and (population) standard deviation of the
// non-zero voxels; zero voxels (the background outside the skull-stripped
// brain) stay 0. It returns μ and σ, and an error when the scan has no
// non-zero voxel or its non-zero voxels are all equal (σ = 0), or holds a
// NaN or an infinity. It is NonZeroStats followed by NormalizeWith.
func NormalizeNonZero(v []float32) (mean, std float64, err error) {
	if mean, std, err = NonZeroStats(v); err != nil {
		return mean, std, err
	}
	NormalizeWith(v, mean, std)
	return mean, std, nil
}

// NonZeroStats returns the normalisation parameters of NormalizeNonZero: the
// mean μ and (population) standard deviation σ of the non-zero voxels of v.
// It returns an error when v has no non-zero voxel, its non-zero voxels are
// all equal (σ = 0), or it holds a NaN or an infinity.
func NonZeroStats(v []float32) (mean, std float64, err error) {
	var sum, sum2 float64
	n := 0
	for i, x := range v {
		if x == 0 {
			continue
		}
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, 0, fmt.Errorf("voxel %d is %v", i, x)
		}
		sum += f
		n++
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("no non-zero voxel (empty scan)")
	}
	mean = sum / float64(n)
	for _, x := range v {
		if x != 0 {
			d := float64(x) - mean
			sum2 += d * d
		}
	}
	std = math.Sqrt(sum2 / float64(n))
	if std == 0 || std < 1e-12*math.Abs(mean) {
		return mean, std, fmt.Errorf("all %d non-zero voxels have the value %g", n, mean)
	}
	return mean, std, nil
}

// NormalizeWith applies the affine map of NormalizeNonZero with given
// parameters to v in place: v' = clip((v - mean) / (3 std), -1, 1) for
// v ≠ 0, zero voxels stay 0. Normalising a patient's healthy counterpart
// with the mean and std of the pathological scan (NonZeroStats) puts both
// in the same units. std must be > 0.
func NormalizeWith(v []float32, mean, std float64) {
	scale := 1 / (3 * std)
	for i, x := range v {
		if x == 0 {
			continue
		}
		y := (float64(x) - mean) * scale
		v[i] = float32(min(1, max(-1, y)))
	}
}

// volume is one patient's four normalised scans and the label volume, all of
// shape (X, Y, Z) in NIfTI order (x fastest), and optionally the normalised
// healthy counterparts.
type volume struct {
	shape   [3]int
	images  [NumModalities][]float32
	seg     []uint8
	healthy [NumModalities][]float32 // nil when not loaded
}

// loadPatient reads, checks and normalises one patient's files; with
// healthy it also loads p.Healthy, each normalised with the mean and std of
// the corresponding pathological scan. Errors name the file and the
// problem.
func loadPatient(p PatientFiles, healthy bool) (*volume, error) {
	v := &volume{}
	read := func(path string) (*nifti.Image, error) {
		im, err := nifti.ReadFile(path)
		if err != nil {
			return nil, err
		}
		s := im.Shape()
		if len(s) == 4 && s[3] == 1 {
			s = s[:3]
		}
		if len(s) != 3 {
			return nil, fmt.Errorf("%s: shape %v, want a 3-D volume", path, im.Shape())
		}
		shape := [3]int{s[0], s[1], s[2]}
		if v.shape == ([3]int{}) {
			v.shape = shape
		} else if shape != v.shape {
			return nil, fmt.Errorf("%s: shape %v does not match %v of %s", path, shape, v.shape, p.Images[FLAIR])
		}
		return im, nil
	}
	for m, path := range p.Images {
		im, err := read(path)
		if err != nil {
			return nil, err
		}
		vals := im.Float32s()
		mean, std, err := NonZeroStats(vals)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot normalise: %w", path, err)
		}
		NormalizeWith(vals, mean, std)
		v.images[m] = vals
		if !healthy {
			continue
		}
		if p.Healthy[m] == "" {
			return nil, fmt.Errorf("%s: no healthy counterpart of %s", p.Dir, Modality(m))
		}
		him, err := read(p.Healthy[m])
		if err != nil {
			return nil, err
		}
		hv := him.Float32s()
		for i, x := range hv {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%s: voxel %d is %v", p.Healthy[m], i, x)
			}
		}
		NormalizeWith(hv, mean, std)
		v.healthy[m] = hv
	}
	im, err := read(p.Seg)
	if err != nil {
		return nil, err
	}
	v.seg = make([]uint8, im.Len())
	for i := range v.seg {
		x := im.At(i)
		if x != math.Trunc(x) || x < 0 || x > 4 {
			return nil, fmt.Errorf("%s: voxel %d has label %v, want one of 0, 1, 2, 4 (3 is accepted too)", p.Seg, i, x)
		}
		v.seg[i] = uint8(x)
	}
	return v, nil
}

// sliceImage returns axial slice z as an [H=Y][W=X][C=4] image (rows are the
// NIfTI y axis, columns the x axis, no flipping) and its [H][W] labels.
func (v *volume) sliceImage(z int) ([]float32, []uint8) {
	nx, ny := v.shape[0], v.shape[1]
	lab := make([]uint8, nx*ny)
	copy(lab, v.seg[z*nx*ny:(z+1)*nx*ny])
	return sliceChannels(v.images, v.shape, z), lab
}

// sliceHealthy returns axial slice z of the healthy counterparts as
// sliceImage does, nil when they are not loaded.
func (v *volume) sliceHealthy(z int) []float32 {
	if v.healthy[0] == nil {
		return nil
	}
	return sliceChannels(v.healthy, v.shape, z)
}

// sliceChannels interleaves axial slice z of four volumes of the given
// shape into an [H=Y][W=X][C=4] image.
func sliceChannels(vols [NumModalities][]float32, shape [3]int, z int) []float32 {
	nx, ny := shape[0], shape[1]
	img := make([]float32, nx*ny*NumModalities)
	base := z * nx * ny
	for y := range ny {
		for x := range nx {
			src := base + y*nx + x
			dst := y*nx + x
			for c := range NumModalities {
				img[dst*NumModalities+c] = vols[c][src]
			}
		}
	}
	return img
}

// tumourPixels counts the voxels of slice z with a label > 0 (whole tumour).
func (v *volume) tumourPixels(z int) int {
	n := v.shape[0] * v.shape[1]
	c := 0
	for _, l := range v.seg[z*n : (z+1)*n] {
		if l > 0 {
			c++
		}
	}
	return c
}

// centreCrop cuts the central size x size window out of an [h][w][c] image.
// When size exceeds a side the image is padded with zeros there.
func centreCrop[T float32 | uint8](img []T, h, w, c, size int) []T {
	out := make([]T, size*size*c)
	y0, x0 := (h-size)/2, (w-size)/2
	for y := range size {
		sy := y + y0
		if sy < 0 || sy >= h {
			continue
		}
		for x := range size {
			sx := x + x0
			if sx < 0 || sx >= w {
				continue
			}
			copy(out[(y*size+x)*c:(y*size+x+1)*c], img[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
	return out
}

// ResizeArea resamples an [h][w][c] image to [nh][nw][c] by area averaging:
// each output pixel is the mean of the input over its footprint, with
// fractional weights at the edges. This is the right filter for shrinking
// (it does not alias); when enlarging it repeats pixels.
func ResizeArea(img []float32, h, w, c, nh, nw int) []float32 {
	wy, wx := areaWeights(h, nh), areaWeights(w, nw)
	// Rows first: tmp is [nh][w][c].
	tmp := make([]float64, nh*w*c)
	for oy, ws := range wy {
		row := tmp[oy*w*c : (oy+1)*w*c]
		for _, t := range ws {
			src := img[t.i*w*c : (t.i+1)*w*c]
			for k, v := range src {
				row[k] += t.w * float64(v)
			}
		}
	}
	out := make([]float32, nh*nw*c)
	for oy := range nh {
		for ox, ws := range wx {
			for ch := range c {
				var s float64
				for _, t := range ws {
					s += t.w * tmp[(oy*w+t.i)*c+ch]
				}
				out[(oy*nw+ox)*c+ch] = float32(s)
			}
		}
	}
	return out
}

type tap struct {
	i int
	w float64
}

// areaWeights gives, for each of m output cells, the input cells of n it
// overlaps and the overlap fractions, normalised to sum to 1.
func areaWeights(n, m int) [][]tap {
	scale := float64(n) / float64(m)
	out := make([][]tap, m)
	for o := range m {
		lo, hi := float64(o)*scale, float64(o+1)*scale
		for i := int(math.Floor(lo)); i < n && float64(i) < hi; i++ {
			ov := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
			if ov > 1e-12 {
				out[o] = append(out[o], tap{i, ov / scale})
			}
		}
	}
	return out
}

// ResizeNearest resamples an [h][w] label map to [nh][nw] by taking the label
// at each output pixel's centre, so labels stay in their label set.
func ResizeNearest(lab []uint8, h, w, nh, nw int) []uint8 {
	out := make([]uint8, nh*nw)
	for y := range nh {
		sy := min(h-1, int((float64(y)+0.5)*float64(h)/float64(nh)))
		for x := range nw {
			sx := min(w-1, int((float64(x)+0.5)*float64(w)/float64(nw)))
			out[y*nw+x] = lab[sy*w+sx]
		}
	}
	return out
}
