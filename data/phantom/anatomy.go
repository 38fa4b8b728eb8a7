package phantom

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/pathogan-go/pathogan/data/nifti"
)

// SlabFile is the embedded anatomy's path inside this package's folder.
const SlabFile = "anatomy/colin27_slab.nii.gz"

//go:embed anatomy/colin27_slab.nii.gz
var slabGz []byte

// Axial mapping shared by every anatomy source: the anatomy slice at
// refFraction of the brain's inferior-superior extent is placed on BraTS
// slice refSlice. For Colin27 (brain in slices 4..155 of ch2bet) this puts
// template slice 83 (MNI z = +12 mm, bodies of the lateral ventricles,
// basal ganglia, thalami) on BraTS slice 80, so BraTS slices 60..100 run from
// MNI z = -8 mm (midbrain, third ventricle) to +32 mm (top of the lateral
// ventricles).
const (
	refFraction = 0.52
	refSlice    = 80.0
	// slabHalf is the number of template slices kept on each side of the
	// reference slice in the embedded slab (81 slices, BraTS 40..120).
	slabHalf = 40
	// slabMargin is how many slab slices at each end are kept for the warp
	// to pull from but never shown: the slab's cover is BraTS slices
	// 45..115.
	slabMargin = 5
)

// gridCentre is the in-plane centre of the BraTS grid in millimetres.
var gridCentre = vec3{119.5, 119.5, refSlice}

// anatomy is a skull-stripped T1 volume (1 mm voxels) ready for sampling.
type anatomy struct {
	name       string
	nx, ny, nz int
	t1         []float32 // T1 divided by the brain's 99th percentile; 0 outside
	mask       []float32 // 1 in the brain, 0 outside
	depth      []float32 // distance to the nearest non-brain voxel, mm
	cx, cy     float64   // in-plane brain centre, voxel coordinates
	refZ       float64   // anatomy slice placed on BraTS slice refSlice
	zlo, zhi   float64   // anatomy slices that may be shown (voxel coords)
	centres    [3]float64
}

// brainBox returns the bounding box of the voxels > 0 of a volume, or ok =
// false when there are none.
func brainBox(v []float32, nx, ny, nz int) (lo, hi [3]int, ok bool) {
	lo = [3]int{nx, ny, nz}
	hi = [3]int{-1, -1, -1}
	for z := 0; z < nz; z++ {
		for y := 0; y < ny; y++ {
			row := v[(z*ny+y)*nx : (z*ny+y+1)*nx]
			for x, t := range row {
				if t > 0 {
					lo[0], hi[0] = min(lo[0], x), max(hi[0], x)
					lo[1], hi[1] = min(lo[1], y), max(hi[1], y)
					lo[2], hi[2] = min(lo[2], z), max(hi[2], z)
				}
			}
		}
	}
	return lo, hi, hi[0] >= 0
}

// refSliceOf returns the anatomy slice placed on BraTS slice 80 for a brain
// spanning slices z0..z1.
func refSliceOf(z0, z1 int) int {
	return z0 + int(math.Round(refFraction*float64(z1-z0)))
}

// crop copies the box lo..hi (inclusive, may extend past the volume: zeros)
// out of v.
func crop(v []float32, nx, ny, nz int, lo, hi [3]int) []float32 {
	cx, cy, cz := hi[0]-lo[0]+1, hi[1]-lo[1]+1, hi[2]-lo[2]+1
	out := make([]float32, cx*cy*cz)
	for z := 0; z < cz; z++ {
		sz := z + lo[2]
		if sz < 0 || sz >= nz {
			continue
		}
		for y := 0; y < cy; y++ {
			sy := y + lo[1]
			if sy < 0 || sy >= ny {
				continue
			}
			for x := 0; x < cx; x++ {
				sx := x + lo[0]
				if sx < 0 || sx >= nx {
					continue
				}
				out[(z*cy+y)*cx+x] = v[(sz*ny+sy)*nx+sx]
			}
		}
	}
	return out
}

// readT1 reads a 3-D NIfTI T1 volume.
func readT1(im *nifti.Image, name string) (v []float32, nx, ny, nz int, err error) {
	sh := im.Shape()
	for len(sh) > 3 && sh[len(sh)-1] == 1 {
		sh = sh[:len(sh)-1]
	}
	if len(sh) != 3 {
		return nil, 0, 0, 0, fmt.Errorf("phantom: anatomy %s: shape %v, want a 3-D volume", name, im.Shape())
	}
	v = im.Float32s()
	for i, t := range v {
		if math.IsNaN(float64(t)) || t < 0 {
			v[i] = 0
		}
	}
	return v, sh[0], sh[1], sh[2], nil
}

// ExtractSlab cuts the embedded anatomy slab out of a skull-stripped T1
// template such as Colin27's ch2bet.nii.gz: the brain's bounding box in x
// and y, and the 81 axial slices centred on the reference slice (52% of the
// brain's inferior-superior extent, MNI z = +12 mm for Colin27). Values are
// rescaled to 0..255 only when the template's maximum exceeds 255, and
// stored as uint8. The embedded SlabFile is ExtractSlab of
// /usr/share/mricron/templates/ch2bet.nii.gz (Debian package mricron-data).
func ExtractSlab(templatePath string) (*nifti.Image, error) {
	im, err := nifti.ReadFile(templatePath)
	if err != nil {
		return nil, fmt.Errorf("phantom: anatomy template: %w", err)
	}
	v, nx, ny, nz, err := readT1(im, templatePath)
	if err != nil {
		return nil, err
	}
	lo, hi, ok := brainBox(v, nx, ny, nz)
	if !ok {
		return nil, fmt.Errorf("phantom: anatomy template %s: no voxel > 0", templatePath)
	}
	r := refSliceOf(lo[2], hi[2])
	lo[2], hi[2] = r-slabHalf, r+slabHalf
	out := crop(v, nx, ny, nz, lo, hi)
	mx := slices.Max(out)
	for i, t := range out {
		if mx > 255 {
			t = t * 255 / mx
		}
		out[i] = float32(math.Round(float64(t)))
	}
	return nifti.FromFloat32([]int{hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1}, nifti.Uint8, out)
}

// embeddedSlab decodes the embedded slab.
func embeddedSlab() (*nifti.Image, error) {
	return nifti.Read(bytes.NewReader(slabGz), SlabFile)
}

var (
	anatomyMu    sync.Mutex
	anatomyCache = map[string]*anatomy{}
)

// loadAnatomy returns the anatomy for a Config.Anatomy value, cached.
func loadAnatomy(src string) (*anatomy, error) {
	anatomyMu.Lock()
	defer anatomyMu.Unlock()
	if a, ok := anatomyCache[src]; ok {
		return a, nil
	}
	var a *anatomy
	var err error
	switch src {
	case "", AnatomyEmbedded:
		a, err = slabAnatomy()
	case AnatomyProcedural:
		a = proceduralAnatomy()
	default:
		a, err = templateAnatomy(src)
	}
	if err != nil {
		return nil, err
	}
	anatomyCache[src] = a
	return a, nil
}

func slabAnatomy() (*anatomy, error) {
	im, err := embeddedSlab()
	if err != nil {
		return nil, fmt.Errorf("phantom: embedded anatomy: %w", err)
	}
	v, nx, ny, nz, err := readT1(im, SlabFile)
	if err != nil {
		return nil, err
	}
	return newAnatomy("embedded Colin27 slab", v, nx, ny, nz,
		float64(nx-1)/2, float64(ny-1)/2, slabHalf, slabMargin, float64(nz-1-slabMargin))
}

func templateAnatomy(path string) (*anatomy, error) {
	im, err := nifti.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("phantom: anatomy template: %w", err)
	}
	v, nx, ny, nz, err := readT1(im, path)
	if err != nil {
		return nil, err
	}
	lo, hi, ok := brainBox(v, nx, ny, nz)
	if !ok {
		return nil, fmt.Errorf("phantom: anatomy template %s: no voxel > 0", path)
	}
	if hi[2]-lo[2] < 40 || hi[0]-lo[0] < 40 || hi[1]-lo[1] < 40 {
		return nil, fmt.Errorf("phantom: anatomy template %s: brain box %v..%v is too small for a 1 mm whole-brain T1", path, lo, hi)
	}
	ref := refSliceOf(lo[2], hi[2])
	const m = 4
	for a := range 3 {
		lo[a] -= m
		hi[a] += m
	}
	v = crop(v, nx, ny, nz, lo, hi)
	nx, ny, nz = hi[0]-lo[0]+1, hi[1]-lo[1]+1, hi[2]-lo[2]+1
	return newAnatomy(path, v, nx, ny, nz, float64(nx-1)/2, float64(ny-1)/2, float64(ref-lo[2]), 0, float64(nz-1))
}

// newAnatomy normalises a T1 volume and derives the tissue classes and depth.
func newAnatomy(name string, v []float32, nx, ny, nz int, cx, cy, refZ, zlo, zhi float64) (*anatomy, error) {
	a := &anatomy{name: name, nx: nx, ny: ny, nz: nz, cx: cx, cy: cy, refZ: refZ, zlo: zlo, zhi: zhi}
	var brain []float32
	for _, t := range v {
		if t > 0 {
			brain = append(brain, t)
		}
	}
	if len(brain) < 1000 {
		return nil, fmt.Errorf("phantom: anatomy %s: only %d brain voxels", name, len(brain))
	}
	slices.Sort(brain)
	p99 := brain[len(brain)*99/100]
	a.t1 = make([]float32, len(v))
	a.mask = make([]float32, len(v))
	for i, t := range v {
		if t > 0 {
			a.t1[i] = t / p99
			a.mask[i] = 1
		}
	}
	for i := range brain {
		brain[i] /= p99
	}
	a.centres = kmeans3(brain)
	if !(a.centres[0] < a.centres[1] && a.centres[1] < a.centres[2]) {
		return nil, fmt.Errorf("phantom: anatomy %s: no CSF/GM/WM contrast (class means %v)", name, a.centres)
	}
	a.depth = chamferDepth(a.mask, nx, ny, nz)
	return a, nil
}

// kmeans3 clusters sorted values into three classes (1-D k-means, started
// at the 10th, 50th and 90th percentiles) and returns the sorted means.
func kmeans3(sorted []float32) [3]float64 {
	n := len(sorted)
	c := [3]float64{float64(sorted[n/10]), float64(sorted[n/2]), float64(sorted[n*9/10])}
	// prefix sums make each iteration O(log n)
	pre := make([]float64, n+1)
	for i, t := range sorted {
		pre[i+1] = pre[i] + float64(t)
	}
	for it := 0; it < 100; it++ {
		b1 := float32((c[0] + c[1]) / 2)
		b2 := float32((c[1] + c[2]) / 2)
		i1, _ := slices.BinarySearch(sorted, b1)
		i2, _ := slices.BinarySearch(sorted, b2)
		cuts := [4]int{0, i1, i2, n}
		var nc [3]float64
		for k := range 3 {
			if cuts[k+1] > cuts[k] {
				nc[k] = (pre[cuts[k+1]] - pre[cuts[k]]) / float64(cuts[k+1]-cuts[k])
			} else {
				nc[k] = c[k]
			}
		}
		if nc == c {
			break
		}
		c = nc
	}
	return c
}

// chamferDepth returns, for each brain voxel, an approximate Euclidean
// distance (3-4-5 chamfer, in mm) to the nearest non-brain voxel. Voxels
// beyond the volume's faces count as brain, so a slab's cut faces are not
// surfaces.
func chamferDepth(mask []float32, nx, ny, nz int) []float32 {
	const inf = float32(1e9)
	d := make([]float32, len(mask))
	for i, m := range mask {
		if m > 0 {
			d[i] = inf
		}
	}
	type off struct {
		dx, dy, dz int
		w          float32
	}
	var fwd []off
	for dz := -1; dz <= 0; dz++ {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if dz == 0 && (dy > 0 || (dy == 0 && dx >= 0)) {
					continue
				}
				n := dx*dx + dy*dy + dz*dz
				w := [4]float32{0, 1, 4.0 / 3, 5.0 / 3}[n]
				fwd = append(fwd, off{dx, dy, dz, w})
			}
		}
	}
	pass := func(sign int) {
		z0, z1, y0, y1, x0, x1 := 0, nz, 0, ny, 0, nx
		step := 1
		if sign < 0 {
			z0, z1, y0, y1, x0, x1 = nz-1, -1, ny-1, -1, nx-1, -1
			step = -1
		}
		for z := z0; z != z1; z += step {
			for y := y0; y != y1; y += step {
				for x := x0; x != x1; x += step {
					i := (z*ny+y)*nx + x
					if d[i] == 0 {
						continue
					}
					best := d[i]
					for _, o := range fwd {
						xx, yy, zz := x+sign*o.dx, y+sign*o.dy, z+sign*o.dz
						if xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz {
							continue
						}
						if t := d[(zz*ny+yy)*nx+xx] + o.w; t < best {
							best = t
						}
					}
					d[i] = best
				}
			}
		}
	}
	pass(1)
	pass(-1)
	return d
}

// sample returns the T1 value (partial-volume corrected) and brain fraction at
// anatomy voxel coordinates (x, y, z), trilinearly interpolated; ok is false
// outside the volume.
func (a *anatomy) sample(p vec3) (t1, mask float64, ok bool) {
	x, y := p[0], p[1]
	// z is clamped: a slab's edge slices stand in for the brain beyond them
	// when a warp pulls from slightly outside its cover.
	z := clamp(p[2], 0, float64(a.nz-1)-1e-9)
	if !(x >= 0 && y >= 0 && x < float64(a.nx-1) && y < float64(a.ny-1)) {
		return 0, 0, false
	}
	xi, yi, zi := int(x), int(y), int(z)
	fx, fy, fz := x-float64(xi), y-float64(yi), z-float64(zi)
	sy := a.nx
	sz := a.nx * a.ny
	b := zi*sz + yi*sy + xi
	w := [8]float64{
		(1 - fx) * (1 - fy) * (1 - fz), fx * (1 - fy) * (1 - fz), (1 - fx) * fy * (1 - fz), fx * fy * (1 - fz),
		(1 - fx) * (1 - fy) * fz, fx * (1 - fy) * fz, (1 - fx) * fy * fz, fx * fy * fz,
	}
	o := [8]int{b, b + 1, b + sy, b + sy + 1, b + sz, b + sz + 1, b + sz + sy, b + sz + sy + 1}
	for n := range 8 {
		t1 += w[n] * float64(a.t1[o[n]])
		mask += w[n] * float64(a.mask[o[n]])
	}
	if mask > 0 {
		t1 /= mask
	}
	return t1, mask, true
}

// depthAt returns the interpolated depth at anatomy voxel coordinates.
func (a *anatomy) depthAt(p vec3) float64 {
	x := clamp(p[0], 0, float64(a.nx-1)-1e-9)
	y := clamp(p[1], 0, float64(a.ny-1)-1e-9)
	z := clamp(p[2], 0, float64(a.nz-1)-1e-9)
	xi, yi, zi := int(x), int(y), int(z)
	fx, fy, fz := x-float64(xi), y-float64(yi), z-float64(zi)
	get := func(dx, dy, dz int) float64 {
		return float64(a.depth[((zi+dz)*a.ny+yi+dy)*a.nx+xi+dx])
	}
	c00 := get(0, 0, 0)*(1-fx) + get(1, 0, 0)*fx
	c10 := get(0, 1, 0)*(1-fx) + get(1, 1, 0)*fx
	c01 := get(0, 0, 1)*(1-fx) + get(1, 0, 1)*fx
	c11 := get(0, 1, 1)*(1-fx) + get(1, 1, 1)*fx
	return (c00*(1-fy)+c10*fy)*(1-fz) + (c01*(1-fy)+c11*fy)*fz
}

// memberships turns a normalised T1 value into CSF, GM and WM fractions by
// linear partial-volume mixing between neighbouring class means.
func (a *anatomy) memberships(t float64) (csf, gm, wm float64) {
	c := a.centres
	switch {
	case t <= c[0]:
		return 1, 0, 0
	case t < c[1]:
		g := (t - c[0]) / (c[1] - c[0])
		return 1 - g, g, 0
	case t < c[2]:
		w := (t - c[1]) / (c[2] - c[1])
		return 0, 1 - w, w
	}
	return 0, 0, 1
}

// toAnatomy maps a point of the BraTS frame (mm) to anatomy voxel
// coordinates, without any patient deformation.
func (a *anatomy) toAnatomy(p vec3) vec3 {
	return vec3{p[0] - gridCentre[0] + a.cx, p[1] - gridCentre[1] + a.cy, p[2] - refSlice + a.refZ}
}

// coverZ returns the BraTS-frame z range (mm) the anatomy may show.
func (a *anatomy) coverZ() (lo, hi float64) {
	return a.zlo - a.refZ + refSlice, a.zhi - a.refZ + refSlice
}
