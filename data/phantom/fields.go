package phantom

import (
	"math"
	"math/rand/v2"
)

// vec3 is a point or displacement in millimetres.
type vec3 [3]float64

func (a vec3) sub(b vec3) vec3 { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec3) add(b vec3) vec3 { return vec3{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec3) scale(s float64) vec3 {
	return vec3{a[0] * s, a[1] * s, a[2] * s}
}
func (a vec3) norm() float64 { return math.Sqrt(a[0]*a[0] + a[1]*a[1] + a[2]*a[2]) }

// smoothstep is 0 below e0, 1 above e1 and a cubic Hermite ramp between.
func smoothstep(e0, e1, x float64) float64 {
	if x <= e0 {
		return 0
	}
	if x >= e1 {
		return 1
	}
	t := (x - e0) / (e1 - e0)
	return t * t * (3 - 2*t)
}

func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// randUnit returns a random direction, uniform on the sphere.
func randUnit(r *rand.Rand) vec3 {
	z := 2*r.Float64() - 1
	phi := 2 * math.Pi * r.Float64()
	s := math.Sqrt(1 - z*z)
	return vec3{s * math.Cos(phi), s * math.Sin(phi), z}
}

// uniform returns a number uniform in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// lattice is a regular 3-D grid of float32 values over a box in millimetres,
// sampled by trilinear interpolation. It carries value noise, warp fields and
// similar smooth functions.
type lattice struct {
	origin     vec3
	step       float64
	nx, ny, nz int
	ch         int // values per node
	v          []float32
}

func newLattice(lo, hi vec3, step float64, ch int) *lattice {
	l := &lattice{origin: lo, step: step, ch: ch}
	l.nx = int(math.Ceil((hi[0]-lo[0])/step)) + 2
	l.ny = int(math.Ceil((hi[1]-lo[1])/step)) + 2
	l.nz = int(math.Ceil((hi[2]-lo[2])/step)) + 2
	l.v = make([]float32, l.nx*l.ny*l.nz*ch)
	return l
}

// node returns the position of node (i, j, k).
func (l *lattice) node(i, j, k int) vec3 {
	return vec3{l.origin[0] + float64(i)*l.step, l.origin[1] + float64(j)*l.step, l.origin[2] + float64(k)*l.step}
}

// fillNoise fills channel 0 with uniform random values in [-1, 1).
func (l *lattice) fillNoise(r *rand.Rand) {
	for i := range l.v {
		l.v[i] = float32(2*r.Float64() - 1)
	}
}

// cell locates p: the lower node index and fractional offsets, clamped to the
// grid.
func (l *lattice) cell(p vec3) (i, j, k int, fx, fy, fz float64) {
	loc := func(x float64, n int) (int, float64) {
		x = (x) / l.step
		if x <= 0 {
			return 0, 0
		}
		if x >= float64(n-1) {
			return n - 2, 1
		}
		f := math.Floor(x)
		return int(f), x - f
	}
	i, fx = loc(p[0]-l.origin[0], l.nx)
	j, fy = loc(p[1]-l.origin[1], l.ny)
	k, fz = loc(p[2]-l.origin[2], l.nz)
	return
}

// at returns channel c at p, trilinearly interpolated; with smooth set the
// weights are smoothstepped (C1 value noise).
func (l *lattice) at(p vec3, c int, smooth bool) float64 {
	i, j, k, fx, fy, fz := l.cell(p)
	if smooth {
		fx = fx * fx * (3 - 2*fx)
		fy = fy * fy * (3 - 2*fy)
		fz = fz * fz * (3 - 2*fz)
	}
	sx, sy := l.ch, l.ch*l.nx
	sz := sy * l.ny
	b := ((k*l.ny+j)*l.nx+i)*l.ch + c
	v := l.v
	c00 := float64(v[b])*(1-fx) + float64(v[b+sx])*fx
	c10 := float64(v[b+sy])*(1-fx) + float64(v[b+sy+sx])*fx
	c01 := float64(v[b+sz])*(1-fx) + float64(v[b+sz+sx])*fx
	c11 := float64(v[b+sz+sy])*(1-fx) + float64(v[b+sz+sy+sx])*fx
	return (c00*(1-fy)+c10*fy)*(1-fz) + (c01*(1-fy)+c11*fy)*fz
}

// at3 returns the three channels of a 3-channel lattice at p.
func (l *lattice) at3(p vec3) vec3 {
	i, j, k, fx, fy, fz := l.cell(p)
	sx, sy := 3, 3*l.nx
	sz := sy * l.ny
	b := ((k*l.ny+j)*l.nx + i) * 3
	v := l.v
	w000 := (1 - fx) * (1 - fy) * (1 - fz)
	w100 := fx * (1 - fy) * (1 - fz)
	w010 := (1 - fx) * fy * (1 - fz)
	w110 := fx * fy * (1 - fz)
	w001 := (1 - fx) * (1 - fy) * fz
	w101 := fx * (1 - fy) * fz
	w011 := (1 - fx) * fy * fz
	w111 := fx * fy * fz
	var out vec3
	for c := 0; c < 3; c++ {
		o := b + c
		out[c] = w000*float64(v[o]) + w100*float64(v[o+sx]) + w010*float64(v[o+sy]) + w110*float64(v[o+sy+sx]) +
			w001*float64(v[o+sz]) + w101*float64(v[o+sz+sx]) + w011*float64(v[o+sz+sy]) + w111*float64(v[o+sz+sy+sx])
	}
	return out
}

// noise3 is two-octave value noise in [-1, 1] over a box.
type noise3 struct{ a, b *lattice }

func newNoise3(r *rand.Rand, lo, hi vec3, step float64) noise3 {
	a := newLattice(lo, hi, step, 1)
	a.fillNoise(r)
	b := newLattice(lo, hi, step/2, 1)
	b.fillNoise(r)
	return noise3{a, b}
}

func (n noise3) at(p vec3) float64 {
	return (n.a.at(p, 0, true) + 0.5*n.b.at(p, 0, true)) / 1.2
}

// bspline returns the four cubic B-spline weights for fraction t.
func bspline(t float64) [4]float64 {
	t2, t3 := t*t, t*t*t
	return [4]float64{
		(1 - 3*t + 3*t2 - t3) / 6,
		(4 - 6*t2 + 3*t3) / 6,
		(1 + 3*t + 3*t2 - 3*t3) / 6,
		t3 / 6,
	}
}

// splineField is a smooth random 3-D displacement: Gaussian control-point
// displacements on a coarse grid, interpolated with cubic B-splines.
type splineField struct {
	lo         vec3
	step       float64
	nx, ny, nz int
	d          []vec3
}

func newSplineField(r *rand.Rand, lo, hi vec3, step, std float64) *splineField {
	f := &splineField{lo: lo.sub(vec3{2 * step, 2 * step, 2 * step}), step: step}
	f.nx = int(math.Ceil((hi[0]-lo[0])/step)) + 5
	f.ny = int(math.Ceil((hi[1]-lo[1])/step)) + 5
	f.nz = int(math.Ceil((hi[2]-lo[2])/step)) + 5
	f.d = make([]vec3, f.nx*f.ny*f.nz)
	for i := range f.d {
		f.d[i] = vec3{std * r.NormFloat64(), std * r.NormFloat64(), std * r.NormFloat64()}
	}
	return f
}

func (f *splineField) at(p vec3) vec3 {
	var idx [3]int
	var w [3][4]float64
	n := [3]int{f.nx, f.ny, f.nz}
	for a := 0; a < 3; a++ {
		x := (p[a] - f.lo[a]) / f.step
		x = clamp(x, 1, float64(n[a]-3)-1e-9)
		fl := math.Floor(x)
		idx[a] = int(fl) - 1
		w[a] = bspline(x - fl)
	}
	var out vec3
	for c := 0; c < 4; c++ {
		for b := 0; b < 4; b++ {
			wbc := w[1][b] * w[2][c]
			row := ((idx[2]+c)*f.ny + idx[1] + b) * f.nx
			for a := 0; a < 4; a++ {
				d := f.d[row+idx[0]+a]
				wt := w[0][a] * wbc
				out[0] += wt * d[0]
				out[1] += wt * d[1]
				out[2] += wt * d[2]
			}
		}
	}
	return out
}
