package phantom

import (
	"math"
	"math/rand/v2"
)

// blob is one ellipsoid of a tumour's core, axis-aligned.
type blob struct {
	c    vec3
	inv  vec3    // 1 / semi-axes
	mean float64 // mean semi-axis, mm
}

// tumour is a glioma in the BraTS frame (mm). Its regions are level sets of
// a perturbed signed distance d (mm) to the core's surface: necrosis
// d < -thick, core d < 0, oedema d < edge (less outside white matter).
type tumour struct {
	hgg     bool
	centre  vec3
	blobs   []blob
	rc      float64 // core radius
	thick   float64 // enhancing rim thickness (0: no necrosis)
	edge    float64 // oedema reach beyond the core in white matter
	hasCore bool    // LGG: a non-enhancing core (label 1)
	lo, hi  vec3    // bounding box of all labels

	shape, rim, tex, oedema noise3

	// mass effect
	push, lambda, infl float64
}

// newTumour draws a tumour with core radius rc (mm), oedema scaled by f,
// centred at c.
func newTumour(r *rand.Rand, hgg bool, c vec3, rc, f float64) *tumour {
	t := &tumour{hgg: hgg, centre: c, rc: rc}
	if hgg {
		t.edge = uniform(r, 6, 30) * f
		thick := uniform(r, 2.5, 6.5)
		if thick < 0.6*rc && r.Float64() < 0.9 {
			t.thick = thick
		}
		t.push = rc * uniform(r, 0.25, 0.5)
	} else {
		t.edge = uniform(r, 3, 14) * f
		t.hasCore = r.Float64() < 0.75
		t.push = rc * uniform(r, 0.1, 0.3)
	}
	zf := uniform(r, 0.75, 1.05)
	nb := 3 + r.IntN(5)
	bound := 0.0
	for b := 0; b < nb; b++ {
		var off vec3
		rad := rc * uniform(r, 0.8, 1.0)
		if b > 0 {
			off = randUnit(r).scale(rc * uniform(r, 0.3, 0.8))
			off[2] *= zf
			rad = rc * uniform(r, 0.45, 0.85)
		}
		ax := vec3{rad * uniform(r, 0.8, 1.25), rad * uniform(r, 0.8, 1.25), rad * zf * uniform(r, 0.8, 1.2)}
		t.blobs = append(t.blobs, blob{c.add(off), vec3{1 / ax[0], 1 / ax[1], 1 / ax[2]}, (ax[0] + ax[1] + ax[2]) / 3})
		bound = max(bound, off.norm()+max(ax[0], ax[1], ax[2]))
	}
	bound += sAmp*rc + 1.3*t.edge + 2
	t.lo = c.sub(vec3{bound, bound, bound})
	t.hi = c.add(vec3{bound, bound, bound})
	t.shape = newNoise3(r, t.lo, t.hi, 9)
	t.oedema = newNoise3(r, t.lo, t.hi, 8)
	t.rim = newNoise3(r, t.lo, t.hi, 7)
	t.tex = newNoise3(r, t.lo, t.hi, 4)
	t.lambda = 0.5*rc + 5
	t.infl = rc + 4*t.lambda
	return t
}

// sAmp is the amplitude of the core outline's perturbation, as a fraction
// of the core radius.
const sAmp = 0.25

// massInverse maps an output point to the point of the healthy (undisplaced)
// brain that the tumour pushed there: tissue is pushed radially away from the
// tumour centre by up to t.push mm at the core's edge, decaying outside, and
// less near the brain's surface (the skull holds it).
func (t *tumour) massInverse(p vec3, g *geometry) vec3 {
	d := p.sub(t.centre)
	r := d.norm()
	if r >= t.infl || r < 1e-9 {
		return p
	}
	var phi float64
	if r < t.rc {
		phi = r / t.rc
	} else {
		phi = math.Exp(-(r - t.rc) / t.lambda)
	}
	depth := g.a.depthAt(g.src.at3(p))
	shift := t.push * phi * smoothstep(2, 14, depth)
	return t.centre.add(d.scale((r - shift) / r))
}

// dist returns the perturbed signed distance (mm) of p to the core's
// surface, negative inside.
func (t *tumour) dist(p vec3) float64 {
	best := math.Inf(1)
	for _, b := range t.blobs {
		dx, dy, dz := (p[0]-b.c[0])*b.inv[0], (p[1]-b.c[1])*b.inv[1], (p[2]-b.c[2])*b.inv[2]
		best = min(best, (math.Sqrt(dx*dx+dy*dy+dz*dz)-1)*b.mean)
	}
	return best + sAmp*t.rc*t.shape.at(p)
}

// tumourWeights are the soft fractions of the tumour classes at a voxel and
// its hard label.
type tumourWeights struct {
	nec, enh, net, ed float64
	tex               float64 // multiplicative texture of tumour tissue
	label             uint8
}

// weights returns the tumour classes at output point p over healthy tissue ts.
func (t *tumour) weights(p vec3, ts tissue) tumourWeights {
	w := tumourWeights{tex: 1}
	if p[0] < t.lo[0] || p[1] < t.lo[1] || p[2] < t.lo[2] || p[0] > t.hi[0] || p[1] > t.hi[1] || p[2] > t.hi[2] {
		return w
	}
	d := t.dist(p)
	edLim := t.edge * (0.25 + 0.75*ts.wm) * (1 + 0.3*t.oedema.at(p))
	if d >= edLim+1 {
		return w
	}
	const soft = 0.7 // mm
	core := 1 - smoothstep(-soft, soft, d)
	gate := 1 - smoothstep(0.45, 0.7, ts.csf) // oedema spares CSF
	all := 1 - smoothstep(edLim-soft, edLim+soft, d)
	w.ed = max(0, all-core) * gate
	w.tex = 1 + 0.15*t.tex.at(p)
	inEd := d < edLim && ts.csf < 0.575
	if t.hgg {
		nb := math.Inf(-1) // necrosis boundary
		if t.thick > 0 {
			nb = -t.thick * (1 + 0.3*t.rim.at(p))
			w.nec = 1 - smoothstep(nb-soft, nb+soft, d)
		}
		w.enh = core - w.nec
		switch {
		case d < nb:
			w.label = 1
		case d < 0:
			w.label = 4
		case inEd:
			w.label = 2
		}
		return w
	}
	if t.hasCore {
		w.net = core
		switch {
		case d < 0:
			w.label = 1
		case inEd:
			w.label = 2
		}
		return w
	}
	// low-grade tumour without a distinct core: all oedema-like (label 2)
	w.ed = max(w.ed, core)
	if d < 0 || inEd {
		w.label = 2
	}
	return w
}

// The BraTS slices the pipeline uses, and the tumour-slice requirements
// checked on them: at least minSlices tumour-free slices and at least
// minSlices slices with more than bigSlice tumour voxels.
const (
	sliceLo   = 60
	sliceHi   = 100
	bigSlice  = 20
	minSlices = 3
)

// placeTumour draws tumours until one sits inside the brain (white matter
// preferred) and leaves both tumour-free and tumour slices in 60..100.
func (g *geometry) placeTumour(r *rand.Rand, hgg bool) error {
	f := 1.0
	for attempt := 0; attempt < 120; attempt++ {
		if attempt > 0 && attempt%20 == 0 {
			f *= 0.85
		}
		var rc float64
		if hgg {
			rc = (5 + 17*math.Pow(r.Float64(), 1.1)) * f
		} else {
			rc = (7 + 15*r.Float64()) * f
		}
		c, ok := g.pickCentre(r, rc)
		if !ok {
			continue
		}
		t := newTumour(r, hgg, c, rc, f)
		g.tumour = t
		if g.slicesOK() {
			return nil
		}
	}
	g.tumour = nil
	return errNoPlace
}

// pickCentre draws a tumour centre deep enough in the brain for a core of
// radius rc, in white matter for most tries.
func (g *geometry) pickCentre(r *rand.Rand, rc float64) (vec3, bool) {
	zlo, zhi := max(sliceLo-4, g.zlo+rc), min(sliceHi+4, g.zhi-rc)
	if zhi <= zlo {
		return vec3{}, false
	}
	need := max(5, 0.8*rc)
	for try := 0; try < 200; try++ {
		c := vec3{uniform(r, 40, 200), uniform(r, 30, 210), uniform(r, zlo, zhi)}
		src := g.src.at3(c)
		t1, m, ok := g.a.sample(src)
		if !ok || m < 0.99 || g.a.depthAt(src) < need {
			continue
		}
		csf, _, wm := g.a.memberships(t1)
		if csf > 0.3 || (try < 150 && wm < 0.6) {
			continue
		}
		return c, true
	}
	return vec3{}, false
}

// slicesOK labels the tumour's box and checks the slice requirements on the
// output slices lying in BraTS slices sliceLo..sliceHi.
func (g *geometry) slicesOK() bool {
	t := g.tumour
	nx, ny := g.shape[0], g.shape[1]
	free, big := 0, 0
	for _, z := range g.mm[2] {
		if z < sliceLo-0.5 || z > sliceHi+0.5 {
			continue
		}
		if z < t.lo[2] || z > t.hi[2] {
			free++
			continue
		}
		count := 0
		for j := 0; j < ny; j++ {
			y := g.mm[1][j]
			if y < t.lo[1] || y > t.hi[1] {
				continue
			}
			for i := 0; i < nx; i++ {
				x := g.mm[0][i]
				if x < t.lo[0] || x > t.hi[0] {
					continue
				}
				p := vec3{x, y, z}
				ts := g.at(p)
				if ts.ok && t.weights(p, ts).label != 0 {
					count++
				}
			}
		}
		if count == 0 {
			free++
		} else if count > bigSlice {
			big++
		}
	}
	return free >= minSlices && big >= minSlices
}
