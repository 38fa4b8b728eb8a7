package metrics

import (
	"fmt"
	"math"
)

// checkMask returns an error unless len(mask) == h*w with h, w >= 1.
func checkMask(name string, mask []uint8, h, w int) error {
	if h < 1 || w < 1 {
		return fmt.Errorf("metrics: %s: bad size %dx%d", name, h, w)
	}
	if len(mask) != h*w {
		return fmt.Errorf("metrics: %s has %d pixels, want %d×%d = %d", name, len(mask), h, w, h*w)
	}
	return nil
}

// box is a bounding box [y0, y1) × [x0, x1); empty when y0 >= y1.
type box struct{ y0, y1, x0, x1 int }

func (b box) union(c box) box {
	if b.y0 >= b.y1 {
		return c
	}
	if c.y0 >= c.y1 {
		return b
	}
	return box{min(b.y0, c.y0), max(b.y1, c.y1), min(b.x0, c.x0), max(b.x1, c.x1)}
}

// Boundary returns the boundary of a binary mask (non-zero = foreground) of
// h rows and w columns, stored row-major: a pixel is on the boundary when it
// is foreground and not in the one-pixel erosion of the mask with the
// 4-neighbourhood, that is, when at least one of its 4 neighbours is
// background or outside the image (pixels at the image edge count as
// boundary):
//
//	B(M) = M \ erode(M),  erode(M) = {p ∈ M : p±(1,0), p±(0,1) ∈ M}
//
// The result holds 1 on the boundary and 0 elsewhere.
func Boundary(mask []uint8, h, w int) ([]uint8, error) {
	if err := checkMask("mask", mask, h, w); err != nil {
		return nil, err
	}
	out := make([]uint8, h*w)
	boundaryInto(out, mask, h, w)
	return out, nil
}

// boundaryInto writes the boundary of mask into dst and returns the number
// of boundary pixels and their bounding box.
func boundaryInto(dst, mask []uint8, h, w int) (n int, bb box) {
	bb = box{h, 0, w, 0}
	for y := range h {
		row := mask[y*w : y*w+w]
		out := dst[y*w : y*w+w]
		var up, down []uint8
		if y > 0 {
			up = mask[(y-1)*w : y*w]
		}
		if y < h-1 {
			down = mask[(y+1)*w : (y+2)*w]
		}
		for x, m := range row {
			if m == 0 {
				out[x] = 0
				continue
			}
			interior := up != nil && down != nil && x > 0 && x < w-1 &&
				up[x] != 0 && down[x] != 0 && row[x-1] != 0 && row[x+1] != 0
			if interior {
				out[x] = 0
				continue
			}
			out[x] = 1
			n++
			bb.y0, bb.y1 = min(bb.y0, y), max(bb.y1, y+1)
			bb.x0, bb.x1 = min(bb.x0, x), max(bb.x1, x+1)
		}
	}
	return n, bb
}

// DistanceTransform returns, for every pixel of an h×w image, the exact
// Euclidean distance in pixels to the nearest pixel of set (non-zero
// entries), +Inf everywhere when set is empty:
//
//	D(p) = min_{q ∈ set} ‖p − q‖₂
//
// It runs in O(h·w) time: a 1-D distance scan down the columns, then the
// Felzenszwalb–Huttenlocher lower envelope of parabolas along each row
// (P. Felzenszwalb, D. Huttenlocher, "Distance Transforms of Sampled
// Functions", Theory of Computing 8, 2012).
func DistanceTransform(set []uint8, h, w int) ([]float64, error) {
	if err := checkMask("set", set, h, w); err != nil {
		return nil, err
	}
	var c Calculator
	c.grow(h, w)
	out := make([]float64, h*w)
	for i := range out {
		out[i] = math.Inf(1)
	}
	c.edtSq(set, h, w, box{0, h, 0, w}, nil, func(y int, d []float64) {
		for x, v := range d {
			out[y*w+x] = math.Sqrt(v)
		}
	})
	return out, nil
}

// grow makes the scratch buffers large enough for an h×w image.
func (c *Calculator) grow(h, w int) {
	n := h * w
	if cap(c.bp) < n {
		c.bp, c.bt, c.g = make([]uint8, n), make([]uint8, n), make([]int32, n)
	}
	c.bp, c.bt, c.g = c.bp[:n], c.bt[:n], c.g[:n]
	if m := max(h, w); cap(c.f) < m {
		c.f, c.d, c.z, c.v = make([]float64, m), make([]float64, m), make([]float64, m+1), make([]int, m)
	}
}

// edtSq computes squared distances to the sites (non-zero entries of set)
// over the rectangle bb, which must contain every site; the squared
// distances of row y (columns bb.x0 to bb.x1) are passed to emit. Rows in
// which need (if not nil) has no non-zero pixel are skipped. Distances inside
// bb are exact because all sites lie in bb.
func (c *Calculator) edtSq(set []uint8, h, w int, bb box, need []uint8, emit func(y int, d []float64)) {
	const far = math.MaxInt32 / 2
	bw := bb.x1 - bb.x0
	g := c.g
	// Column pass: g = distance along the column to the nearest site, as two
	// row-by-row scans (down, then up) so that memory is read contiguously.
	for y := bb.y0; y < bb.y1; y++ {
		s := set[y*w+bb.x0 : y*w+bb.x1]
		gr := g[y*w+bb.x0 : y*w+bb.x1]
		if y == bb.y0 {
			for x, m := range s {
				if m != 0 {
					gr[x] = 0
				} else {
					gr[x] = far
				}
			}
			continue
		}
		prev := g[(y-1)*w+bb.x0 : (y-1)*w+bb.x1]
		for x, m := range s {
			if m != 0 {
				gr[x] = 0
			} else {
				gr[x] = min(prev[x]+1, far)
			}
		}
	}
	for y := bb.y1 - 2; y >= bb.y0; y-- {
		gr := g[y*w+bb.x0 : y*w+bb.x1]
		next := g[(y+1)*w+bb.x0 : (y+1)*w+bb.x1]
		for x := range gr {
			if next[x]+1 < gr[x] {
				gr[x] = next[x] + 1
			}
		}
	}
	// Row pass: lower envelope of the parabolas (x−q)² + g(q)².
	f, d := c.f[:bw], c.d[:bw]
	for y := bb.y0; y < bb.y1; y++ {
		if need != nil && !anyNonZero(need[y*w+bb.x0:y*w+bb.x1]) {
			continue
		}
		for x, gv := range g[y*w+bb.x0 : y*w+bb.x1] {
			if gv >= far {
				f[x] = math.Inf(1)
			} else {
				f[x] = float64(gv) * float64(gv)
			}
		}
		c.envelope(f, d)
		emit(y, d)
	}
}

func anyNonZero(b []uint8) bool {
	for _, v := range b {
		if v != 0 {
			return true
		}
	}
	return false
}

// envelope is the 1-D Felzenszwalb–Huttenlocher transform
// d(p) = min_q (p−q)² + f(q), skipping the q with f(q) = +Inf.
func (c *Calculator) envelope(f, d []float64) {
	v, z := c.v, c.z
	k := -1
	for q := range f {
		fq := f[q]
		if math.IsInf(fq, 1) {
			continue
		}
		if k < 0 {
			k = 0
			v[0] = q
			z[0], z[1] = math.Inf(-1), math.Inf(1)
			continue
		}
		qf := float64(q)
		var s float64
		for {
			p := v[k]
			pf := float64(p)
			s = ((fq + qf*qf) - (f[p] + pf*pf)) / (2 * (qf - pf))
			if s > z[k] {
				break
			}
			k-- // z[0] = −Inf, so k stays >= 0
		}
		k++
		v[k] = q
		z[k], z[k+1] = s, math.Inf(1)
	}
	if k < 0 {
		for i := range d {
			d[i] = math.Inf(1)
		}
		return
	}
	k = 0
	for q := range d {
		qf := float64(q)
		for z[k+1] < qf {
			k++
		}
		dq := qf - float64(v[k])
		d[q] = dq*dq + f[v[k]]
	}
}
