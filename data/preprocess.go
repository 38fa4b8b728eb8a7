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

// Scans are one patient's four scans as prepare and segment see them: read,
// checked to share one grid, and normalised (NormalizeNonZero), each of
// shape (X, Y, Z) in NIfTI order (x fastest).
type Scans struct {
	// Files are the scans read, indexed by Modality.
	Files [NumModalities]string
	// Headers are their NIfTI headers (grid, voxel sizes, qform and sform).
	Headers [NumModalities]nifti.Header
	// Shape is the common grid (X, Y, Z).
	Shape [3]int
	// Norm are the normalised scans, indexed by Modality.
	Norm [NumModalities][]float32
	// Mean and Std are each scan's normalisation parameters (NonZeroStats):
	// a normalised value v' stands for Mean + 3·Std·v' in the scan's units.
	Mean, Std [NumModalities]float64
}

// LoadScans reads the four scans of one patient (indexed by Modality),
// checks that each is a 3-D volume (a 4-D one with one time point counts)
// on the same grid as the FLAIR, and normalises each as the paper's section
// 2.5 says (NormalizeNonZero). prepare and segment both read scans through
// it, so a model sees the same numbers in both. Errors name the file.
func LoadScans(files [NumModalities]string) (*Scans, error) {
	s := &Scans{Files: files}
	for m, path := range files {
		if path == "" {
			return nil, fmt.Errorf("no %s scan given", Modality(m))
		}
		im, err := s.read(path)
		if err != nil {
			return nil, err
		}
		vals := im.Float32s()
		mean, std, err := NonZeroStats(vals)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot normalise: %w", path, err)
		}
		NormalizeWith(vals, mean, std)
		s.Norm[m], s.Mean[m], s.Std[m], s.Headers[m] = vals, mean, std, im.Header
	}
	return s, nil
}

// readVolume reads a 3-D volume and its grid (Grid).
func readVolume(path string) (*nifti.Image, [3]int, error) {
	im, err := nifti.ReadFile(path)
	if err != nil {
		return nil, [3]int{}, err
	}
	shape, err := Grid(im.Shape())
	if err != nil {
		return nil, shape, fmt.Errorf("%s: %w", path, err)
	}
	return im, shape, nil
}

// read reads one volume of s's grid: the first one read sets the grid.
func (s *Scans) read(path string) (*nifti.Image, error) {
	im, shape, err := readVolume(path)
	if err != nil {
		return nil, err
	}
	if s.Shape == ([3]int{}) {
		s.Shape = shape
	} else if shape != s.Shape {
		return nil, fmt.Errorf("%s: grid %v does not match the grid %v of %s", path, shape, s.Shape, s.Files[FLAIR])
	}
	return im, nil
}

// Grid returns the (X, Y, Z) grid of a volume of the given NIfTI shape: a
// 3-D shape, or a 4-D one with a single time point. Others are an error.
func Grid(shape []int) ([3]int, error) {
	s := shape
	if len(s) == 4 && s[3] == 1 {
		s = s[:3]
	}
	if len(s) != 3 {
		return [3]int{}, fmt.Errorf("shape %v, want a 3-D volume", shape)
	}
	return [3]int{s[0], s[1], s[2]}, nil
}

// Slice returns axial slice z of the normalised scans as an [H=Y][W=X][C=4]
// image (rows are the NIfTI y axis, columns the x axis, no flipping), the
// layout of every prepared slice.
func (s *Scans) Slice(z int) []float32 { return sliceChannels(s.Norm, s.Shape, z) }

// volume is one patient's normalised scans and label volume, and
// optionally the normalised healthy counterparts.
type volume struct {
	*Scans
	seg     []uint8
	healthy [NumModalities][]float32 // nil when not loaded
}

// loadPatient reads, checks and normalises one patient's files; with
// healthy it also loads p.Healthy, each normalised with the mean and std of
// the corresponding pathological scan. Errors name the file and the
// problem.
func loadPatient(p PatientFiles, healthy bool) (*volume, error) {
	sc, err := LoadScans(p.Images)
	if err != nil {
		return nil, err
	}
	v := &volume{Scans: sc}
	for m := range p.Images {
		if !healthy {
			break
		}
		if p.Healthy[m] == "" {
			return nil, fmt.Errorf("%s: no healthy counterpart of %s", p.Dir, Modality(m))
		}
		him, err := sc.read(p.Healthy[m])
		if err != nil {
			return nil, err
		}
		hv := him.Float32s()
		for i, x := range hv {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%s: voxel %d is %v", p.Healthy[m], i, x)
			}
		}
		NormalizeWith(hv, sc.Mean[m], sc.Std[m])
		v.healthy[m] = hv
	}
	if v.seg, err = ReadLabels(p.Seg, sc.Shape); err != nil {
		return nil, err
	}
	return v, nil
}

// ReadLabels reads a BraTS label volume (labels 0, 1, 2, 3, 4) on the given
// grid. Errors name the file.
func ReadLabels(path string, grid [3]int) ([]uint8, error) {
	im, shape, err := readVolume(path)
	if err != nil {
		return nil, err
	}
	if shape != grid {
		return nil, fmt.Errorf("%s: grid %v does not match the scans' grid %v", path, shape, grid)
	}
	seg := make([]uint8, im.Len())
	for i := range seg {
		x := im.At(i)
		if x != math.Trunc(x) || x < 0 || x > 4 {
			return nil, fmt.Errorf("%s: voxel %d has label %v, want one of 0, 1, 2, 4 (3 is accepted too)", path, i, x)
		}
		seg[i] = uint8(x)
	}
	return seg, nil
}

// sliceImage returns axial slice z as an [H=Y][W=X][C=4] image and its
// [H][W] labels.
func (v *volume) sliceImage(z int) ([]float32, []uint8) {
	nx, ny := v.Shape[0], v.Shape[1]
	lab := make([]uint8, nx*ny)
	copy(lab, v.seg[z*nx*ny:(z+1)*nx*ny])
	return v.Slice(z), lab
}

// sliceHealthy returns axial slice z of the healthy counterparts as
// sliceImage does, nil when they are not loaded.
func (v *volume) sliceHealthy(z int) []float32 {
	if v.healthy[0] == nil {
		return nil
	}
	return sliceChannels(v.healthy, v.Shape, z)
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
	n := v.Shape[0] * v.Shape[1]
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
	return recentre(img, h, w, c, size, size)
}

// recentre returns an [nh][nw][c] image holding the [h][w][c] image img
// with the centres aligned: cut where the new size is smaller, padded with
// zeros where it is larger. Cutting and then padding back are inverses on
// the window.
func recentre[T float32 | uint8](img []T, h, w, c, nh, nw int) []T {
	out := make([]T, nh*nw*c)
	y0, x0 := (h-nh)/2, (w-nw)/2
	for y := range nh {
		sy := y + y0
		if sy < 0 || sy >= h {
			continue
		}
		for x := range nw {
			sx := x + x0
			if sx < 0 || sx >= w {
				continue
			}
			copy(out[(y*nw+x)*c:(y*nw+x+1)*c], img[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
	return out
}

// Geometry maps a native axial slice to a model's input as prepare does:
// the central Crop x Crop window (0: the whole slice), then area resampling
// to Size x Size (0: no resampling). Uncut maps a model's output back.
type Geometry struct {
	// Height and Width are the native slice's rows (NIfTI y) and columns (x).
	Height, Width int
	Crop, Size    int
}

// cropped returns the slice's size after the crop.
func (g Geometry) cropped() (h, w int) {
	if g.Crop > 0 {
		return g.Crop, g.Crop
	}
	return g.Height, g.Width
}

// OutHeight and OutWidth are the size of a cut slice.
func (g Geometry) OutHeight() int {
	if g.Size > 0 {
		return g.Size
	}
	h, _ := g.cropped()
	return h
}

// OutWidth: see OutHeight.
func (g Geometry) OutWidth() int {
	if g.Size > 0 {
		return g.Size
	}
	_, w := g.cropped()
	return w
}

// Cut crops and resamples an [Height][Width][c] image (ResizeArea).
func (g Geometry) Cut(img []float32, c int) []float32 {
	h, w := g.cropped()
	if g.Crop > 0 {
		img = centreCrop(img, g.Height, g.Width, c, g.Crop)
	}
	if g.Size > 0 && (g.Size != h || g.Size != w) {
		img = ResizeArea(img, h, w, c, g.Size, g.Size)
	}
	return img
}

// CutLabels crops and resamples an [Height][Width] label map
// (ResizeNearest).
func (g Geometry) CutLabels(lab []uint8) []uint8 {
	h, w := g.cropped()
	if g.Crop > 0 {
		lab = centreCrop(lab, g.Height, g.Width, 1, g.Crop)
	}
	if g.Size > 0 && (g.Size != h || g.Size != w) {
		lab = ResizeNearest(lab, h, w, g.Size, g.Size)
	}
	return lab
}

// Uncut maps an [OutHeight][OutWidth][c] image back onto the native slice:
// bilinear resampling (ResizeBilinear) to the cropped size, then placed at
// the centre; native pixels outside the crop window are 0.
func (g Geometry) Uncut(img []float32, c int) []float32 {
	h, w := g.cropped()
	if g.Size > 0 && (g.Size != h || g.Size != w) {
		img = ResizeBilinear(img, g.Size, g.Size, c, h, w)
	}
	if g.Crop > 0 {
		img = recentre(img, g.Crop, g.Crop, c, g.Height, g.Width)
	}
	return img
}

// ResizeBilinear resamples an [h][w][c] image to [nh][nw][c] by bilinear
// interpolation between pixel centres (half-pixel alignment, edges
// clamped): the filter for enlarging a model's output back to the native
// slice.
func ResizeBilinear(img []float32, h, w, c, nh, nw int) []float32 {
	type lerp struct {
		i0, i1 int
		t      float32
	}
	axis := func(n, m int) []lerp {
		out := make([]lerp, m)
		for o := range m {
			src := (float64(o)+0.5)*float64(n)/float64(m) - 0.5
			src = math.Max(0, math.Min(float64(n-1), src))
			i0 := int(math.Floor(src))
			i1 := min(i0+1, n-1)
			out[o] = lerp{i0, i1, float32(src - float64(i0))}
		}
		return out
	}
	ly, lx := axis(h, nh), axis(w, nw)
	out := make([]float32, nh*nw*c)
	for oy, a := range ly {
		for ox, b := range lx {
			for ch := range c {
				v00 := img[(a.i0*w+b.i0)*c+ch]
				v01 := img[(a.i0*w+b.i1)*c+ch]
				v10 := img[(a.i1*w+b.i0)*c+ch]
				v11 := img[(a.i1*w+b.i1)*c+ch]
				top := v00 + b.t*(v01-v00)
				bot := v10 + b.t*(v11-v10)
				out[(oy*nw+ox)*c+ch] = top + a.t*(bot-top)
			}
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
