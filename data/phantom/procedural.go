package phantom

import (
	"math"
	"math/rand/v2"
)

// proceduralAnatomy builds a synthetic T1 brain on a 1 mm grid: an
// ellipsoidal brain with a folded cortical ribbon and sulci, an
// inter-hemispheric fissure, lateral and third ventricles, and deep grey
// matter (caudate, putamen, thalamus). It is always the same volume.
func proceduralAnatomy() *anatomy {
	const nx, ny, nz = 150, 184, 140
	cx, cy, cz := float64(nx-1)/2, float64(ny-1)/2, float64(nz-1)/2
	r := rand.New(rand.NewPCG(0x70726f63, 0x6272616e))
	// folding: sulci are the zero set of a sum of plane waves with gyral
	// wavelengths; a second, slower sum sets the sulcal depth
	type wave struct {
		k   vec3
		phi float64
	}
	mk := func(n int, lo, hi float64) []wave {
		w := make([]wave, n)
		for i := range w {
			w[i] = wave{randUnit(r).scale(2 * math.Pi / uniform(r, lo, hi)), uniform(r, 0, 2*math.Pi)}
		}
		return w
	}
	folds, depths := mk(8, 22, 34), mk(4, 60, 90)
	// sulcusDist returns the approximate distance (mm) to the nearest
	// sulcal sheet, |g| / |grad g|
	sulcusDist := func(p vec3) float64 {
		var g float64
		var grad vec3
		for _, w := range folds {
			a := w.k[0]*p[0] + w.k[1]*p[1] + w.k[2]*p[2] + w.phi
			g += math.Sin(a)
			grad = grad.add(w.k.scale(math.Cos(a)))
		}
		return math.Abs(g) / max(grad.norm(), 0.05)
	}
	sulcusDepth := func(p vec3) float64 {
		var g float64
		for _, w := range depths {
			g += math.Sin(w.k[0]*p[0] + w.k[1]*p[1] + w.k[2]*p[2] + w.phi)
		}
		return 19 + 4*g
	}
	ell := func(p, c, ax vec3) float64 {
		d := p.sub(c)
		return math.Sqrt(d[0]*d[0]/(ax[0]*ax[0]) + d[1]*d[1]/(ax[1]*ax[1]) + d[2]*d[2]/(ax[2]*ax[2]))
	}
	const (
		vCSF  = 0.2
		vGM   = 0.6
		vDeep = 0.72
		vWM   = 0.95
	)
	v := make([]float32, nx*ny*nz)
	for z := 0; z < nz; z++ {
		for y := 0; y < ny; y++ {
			for x := 0; x < nx; x++ {
				p := vec3{float64(x) - cx, float64(y) - cy, float64(z) - cz}
				// brain outline: a superellipse in-plane (wider behind),
				// flatter below, tapering towards the vertex
				ax := vec3{68 + 5*p[1]/88, 86, 64}
				if p[2] < 0 {
					ax[2] = 46
				}
				u, w := math.Abs(p[0])/ax[0], math.Abs(p[1])/ax[1]
				inplane := math.Pow(math.Pow(u, 2.3)+math.Pow(w, 2.3), 1/2.3)
				zz := p[2] / ax[2]
				rho := math.Sqrt(inplane*inplane + zz*zz)
				if rho >= 1 {
					continue
				}
				depth := (1 - rho) * 60
				val := vWM
				if depth < 32 {
					ds, sd := sulcusDist(p), sulcusDepth(p)
					switch {
					case depth < 1 || (depth < sd && ds < 0.7):
						val = vCSF
					case depth < 3.5 || (depth < sd+3 && ds < 3.6):
						val = vGM
					}
				}
				// inter-hemispheric fissure above the corpus callosum and
				// between the frontal and occipital poles, lined with cortex
				ap := vec3{math.Abs(p[0]), p[1], p[2]}
				if fis := p[2] > 26 || math.Abs(p[1]) > 46+0.2*p[2]; fis && ap[0] < 1.3 {
					val = vCSF
				} else if fis && ap[0] < 4.3 {
					val = vGM
				}
				// deep grey matter
				if ell(ap, vec3{25, 2, 2}, vec3{7, 17, 11}) < 1 || // putamen
					ell(ap, vec3{10, -14, 5}, vec3{9, 13, 9}) < 1 || // thalamus
					ell(ap, vec3{15, 15, 11}, vec3{5.5, 10, 9}) < 1 { // caudate head
					val = vDeep
				}
				// ventricles: frontal horns, bodies, trigones, third ventricle
				if ell(ap, vec3{8.5, 14, 9}, vec3{5.5, 15, 8}) < 1 ||
					ell(ap, vec3{10, -8, 16}, vec3{5.5, 20, 6}) < 1 ||
					ell(ap, vec3{17, -30, 9}, vec3{6, 10, 10}) < 1 ||
					(ap[0] < 2.2 && p[1] > -18 && p[1] < 6 && p[2] > -10 && p[2] < 10) {
					val = vCSF
				}
				v[(z*ny+y)*nx+x] = float32(val)
			}
		}
	}
	// partial volume: a separable 3-tap blur inside the brain
	blurred := blur3(v, nx, ny, nz)
	for i := range v {
		if v[i] > 0 {
			v[i] = max(blurred[i], 0.05)
		}
	}
	a, err := newAnatomy(AnatomyProcedural, v, nx, ny, nz, cx, cy, cz+8, 0, nz-1)
	if err != nil {
		panic("phantom: procedural anatomy: " + err.Error()) // cannot happen: fixed volume
	}
	return a
}

// blur3 applies a [1 2 1]/4 filter along each axis; outside voxels count as 0.
func blur3(v []float32, nx, ny, nz int) []float32 {
	out := append([]float32(nil), v...)
	tmp := make([]float32, len(v))
	strides := [3]int{1, nx, nx * ny}
	dims := [3]int{nx, ny, nz}
	for a := range 3 {
		s, n := strides[a], dims[a]
		for i := range out {
			c := (i / s) % n
			t := 2 * out[i]
			if c > 0 {
				t += out[i-s]
			}
			if c < n-1 {
				t += out[i+s]
			}
			tmp[i] = t / 4
		}
		out, tmp = tmp, out
	}
	return out
}
