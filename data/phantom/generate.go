package phantom

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
)

// Values of Config.Anatomy naming the built-in anatomy sources; any other
// non-empty value is the path of a NIfTI T1 template.
const (
	// AnatomyEmbedded (or "") selects the embedded Colin27 slab.
	AnatomyEmbedded = "embedded"
	// AnatomyProcedural selects the procedural brain.
	AnatomyProcedural = "procedural"
)

// BraTSShape is the BraTS volume shape (x, y, z), 1 mm voxels.
var BraTSShape = [3]int{240, 240, 155}

// Config describes a synthetic data set.
type Config struct {
	// Patients is the number of patients Write generates (indices
	// 0..Patients-1). Generate does not use it: patient k is the same
	// whatever the number of patients.
	Patients int
	// Seed selects the data set; with the same Config the output is
	// byte-identical.
	Seed uint64
	// Shape is the output volume shape (x, y, z). It always spans the BraTS
	// field of view of 240 x 240 x 155 mm, so a smaller shape is a coarser
	// sampling of the same volume (handy for tests); the default is
	// BraTSShape, 1 mm voxels.
	Shape [3]int
	// Anatomy is the anatomy source: "" or AnatomyEmbedded for the embedded
	// Colin27 slab, AnatomyProcedural for the procedural brain, or the path
	// of a skull-stripped 1 mm T1 NIfTI template whose third axis runs
	// inferior to superior (background 0), such as
	// /usr/share/mricron/templates/ch2bet.nii.gz.
	Anatomy string
	// LGGFraction is the fraction of low-grade (non-enhancing) patients, in
	// [0, 1]. Patient k is LGG when floor((k+1)*LGGFraction) >
	// floor(k*LGGFraction), so any prefix of the patients holds the fraction
	// as closely as possible.
	LGGFraction float64
	// NoiseStd is the standard deviation of the Rician noise as a fraction of
	// each modality's brightest healthy tissue, in [0, 0.5].
	NoiseStd float64
	// Healthy asks Generate to also render each patient's healthy
	// counterpart (Patient.Healthy), the ground truth for inpainting. It
	// does not change the pathological images.
	Healthy bool
}

// Bounds of Config, checked by Validate.
const (
	// MaxPatients bounds Config.Patients (IDs keep four digits).
	MaxPatients = 9999
	// MaxVoxels bounds the voxels of Config.Shape: generating a patient
	// takes about 65 bytes a voxel, some 2 GB at this bound (2^25 voxels,
	// 3.8 times BraTS's 240 x 240 x 155).
	MaxVoxels = 1 << 25
)

// DefaultConfig returns 40 patients on the BraTS grid from the embedded
// anatomy, a quarter of them LGG, with 3% noise.
func DefaultConfig() Config {
	return Config{Patients: 40, Seed: 1, Shape: BraTSShape, LGGFraction: 0.25, NoiseStd: 0.03}
}

// Validate reports the first invalid field of c.
func (c Config) Validate() error {
	if c.Patients < 0 || c.Patients > MaxPatients {
		return fmt.Errorf("phantom: Config.Patients = %d, want 0..%d", c.Patients, MaxPatients)
	}
	for a, n := range c.Shape {
		if n < 16 || n > 1024 {
			return fmt.Errorf("phantom: Config.Shape = %v: axis %d is %d, want 16..1024", c.Shape, a, n)
		}
	}
	if v := c.Shape[0] * c.Shape[1] * c.Shape[2]; v > MaxVoxels {
		return fmt.Errorf("phantom: Config.Shape = %v: %d voxels, more than the %d a patient may have (about 2 GB of memory to generate)", c.Shape, v, MaxVoxels)
	}
	if !(c.LGGFraction >= 0 && c.LGGFraction <= 1) {
		return fmt.Errorf("phantom: Config.LGGFraction = %g, want a number in [0, 1]", c.LGGFraction)
	}
	if !(c.NoiseStd >= 0 && c.NoiseStd <= 0.5) {
		return fmt.Errorf("phantom: Config.NoiseStd = %g, want a number in [0, 0.5]", c.NoiseStd)
	}
	switch c.Anatomy {
	case "", AnatomyEmbedded, AnatomyProcedural:
	default:
		if _, err := os.Stat(c.Anatomy); err != nil {
			return fmt.Errorf("phantom: Config.Anatomy: %w", err)
		}
	}
	return nil
}

// Patient is one synthetic BraTS case. Images hold non-negative integer
// values (written as int16), in NIfTI order (x fastest), 0 outside the brain.
type Patient struct {
	// Index is the patient's index in the data set.
	Index int
	// ID is the case name, e.g. "Phantom_HGG_0001" (1-based index).
	ID string
	// Grade is "HGG" (enhancing tumour) or "LGG" (no enhancement).
	Grade string
	// Shape is the volume shape (x, y, z).
	Shape [3]int
	// FLAIR, T1, T1CE and T2 are the four contrasts.
	FLAIR, T1, T1CE, T2 []float32
	// Seg is the label map: 0 background, 1 necrotic/non-enhancing core,
	// 2 oedema, 4 enhancing tumour.
	Seg []uint8
	// Healthy, filled only when Config.Healthy is set, holds the healthy
	// counterpart of FLAIR, T1, T1CE and T2 (Modalities order): the same
	// anatomy, warp, bias field and noise, without the tumour and its mass
	// effect. Where both are brain the noise draws are those of the
	// pathological image, so the two are equal away from the tumour and
	// its mass effect; brain voxels the mass effect pushed out of the
	// pathological brain get noise from a separate deterministic stream.
	Healthy [nMod][]float32
}

// HasHealthy reports whether p holds its healthy counterpart.
func (p *Patient) HasHealthy() bool {
	for _, h := range p.Healthy {
		if h == nil {
			return false
		}
	}
	return true
}

// IsLGG reports whether patient index is low-grade under c.LGGFraction.
func (c Config) IsLGG(index int) bool {
	f := c.LGGFraction
	return math.Floor(float64(index+1)*f+1e-9) > math.Floor(float64(index)*f+1e-9)
}

// PatientID returns the ID of patient index, e.g. "Phantom_LGG_0004".
func (c Config) PatientID(index int) string {
	g := "HGG"
	if c.IsLGG(index) {
		g = "LGG"
	}
	return fmt.Sprintf("Phantom_%s_%04d", g, index+1)
}

// Salts mixed into the seed so that each random stream is independent of
// the others drawn from the same seed: the ASCII of "phantom!" and "healthy!".
const (
	saltPatient = 0x7068616e746f6d21
	saltHealthy = 0x6865616c74687921
)

// patientRand returns patient index's own random stream.
func patientRand(seed uint64, index int) *rand.Rand {
	x := uint64(index) + 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return rand.New(rand.NewPCG(seed^saltPatient, x))
}

// Tissue and tumour classes indexing the intensity table.
const (
	cCSF = iota
	cGM
	cWM
	cNEC // necrosis
	cENH // enhancing rim
	cED  // oedema
	cNET // non-enhancing (low-grade) tumour
	nClass
)

// Modalities, in Patient order.
const (
	mFLAIR = iota
	mT1
	mT1CE
	mT2
	nMod
)

// contrast is the relative intensity of each class in each modality.
var contrast = [nMod][nClass]float64{
	//       CSF   GM    WM    NEC   ENH   ED    NET
	mFLAIR: {0.12, 0.56, 0.45, 0.48, 0.70, 1.00, 0.86},
	mT1:    {0.20, 0.64, 0.85, 0.22, 0.55, 0.58, 0.46},
	mT1CE:  {0.20, 0.61, 0.80, 0.20, 1.35, 0.55, 0.45},
	mT2:    {1.00, 0.52, 0.34, 0.95, 0.62, 0.80, 0.86},
}

// modScale is each modality's typical intensity scale.
var modScale = [nMod]float64{550, 700, 900, 1500}

// geometry maps output voxels to anatomy coordinates for one patient.
type geometry struct {
	a      *anatomy
	shape  [3]int
	mm     [3][]float64 // output voxel index -> BraTS-frame mm, per axis
	src    *lattice     // BraTS-frame point -> anatomy voxel coords (affine + elastic)
	zlo    float64      // output cover, mm
	zhi    float64
	tumour *tumour
}

func newGeometry(r *rand.Rand, a *anatomy, shape [3]int) *geometry {
	g := &geometry{a: a, shape: shape}
	fov := [3]float64{240, 240, 155}
	for ax := range 3 {
		g.mm[ax] = make([]float64, shape[ax])
		for i := range g.mm[ax] {
			g.mm[ax][i] = (float64(i)+0.5)*fov[ax]/float64(shape[ax]) - 0.5
		}
	}
	g.zlo, g.zhi = a.coverZ()
	// global similarity: scale, rotation, translation
	iso := uniform(r, 0.95, 1.05)
	s := vec3{iso * uniform(r, 0.97, 1.03), iso * uniform(r, 0.97, 1.03), iso * uniform(r, 0.97, 1.03)}
	yaw := uniform(r, -7, 7) * math.Pi / 180
	pitch := uniform(r, -3, 3) * math.Pi / 180
	roll := uniform(r, -3, 3) * math.Pi / 180
	t := vec3{uniform(r, -4, 4), uniform(r, -5, 5), uniform(r, -2, 2)}
	rot := rotation(yaw, pitch, roll)
	lo, hi := vec3{-4, -4, -4}, vec3{244, 244, 159}
	el := newSplineField(r, lo, hi, 28, 2.2)
	g.src = newLattice(lo, hi, 4, 3)
	for k := 0; k < g.src.nz; k++ {
		for j := 0; j < g.src.ny; j++ {
			for i := 0; i < g.src.nx; i++ {
				p := g.src.node(i, j, k)
				d := p.sub(gridCentre).sub(t)
				d = vec3{d[0] / s[0], d[1] / s[1], d[2] / s[2]}
				// inverse rotation: transpose
				q := vec3{
					rot[0][0]*d[0] + rot[1][0]*d[1] + rot[2][0]*d[2],
					rot[0][1]*d[0] + rot[1][1]*d[1] + rot[2][1]*d[2],
					rot[0][2]*d[0] + rot[1][2]*d[1] + rot[2][2]*d[2],
				}
				src := a.toAnatomy(gridCentre.add(q)).add(el.at(p))
				o := ((k*g.src.ny+j)*g.src.nx + i) * 3
				g.src.v[o], g.src.v[o+1], g.src.v[o+2] = float32(src[0]), float32(src[1]), float32(src[2])
			}
		}
	}
	return g
}

// rotation returns Rz(yaw) Rx(pitch) Ry(roll).
func rotation(yaw, pitch, roll float64) [3][3]float64 {
	mul := func(a, b [3][3]float64) (c [3][3]float64) {
		for i := range 3 {
			for j := range 3 {
				for k := range 3 {
					c[i][j] += a[i][k] * b[k][j]
				}
			}
		}
		return
	}
	cz, sz := math.Cos(yaw), math.Sin(yaw)
	cx, sx := math.Cos(pitch), math.Sin(pitch)
	cy, sy := math.Cos(roll), math.Sin(roll)
	rz := [3][3]float64{{cz, -sz, 0}, {sz, cz, 0}, {0, 0, 1}}
	rx := [3][3]float64{{1, 0, 0}, {0, cx, -sx}, {0, sx, cx}}
	ry := [3][3]float64{{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}}
	return mul(rz, mul(rx, ry))
}

// tissue is the healthy tissue found at an output point.
type tissue struct {
	csf, gm, wm float64
	ok          bool // inside the brain
}

// at returns the (deformed) healthy tissue at BraTS-frame point p.
func (g *geometry) at(p vec3) tissue {
	if p[2] < g.zlo || p[2] > g.zhi {
		return tissue{}
	}
	q := p
	if g.tumour != nil {
		q = g.tumour.massInverse(p, g)
	}
	return g.tissueAt(q)
}

// tissueAt returns the tissue of the undisplaced (tumour-free) brain at
// BraTS-frame point q.
func (g *geometry) tissueAt(q vec3) tissue {
	t1, m, ok := g.a.sample(g.src.at3(q))
	if !ok || m < 0.5 {
		return tissue{}
	}
	c, gm, w := g.a.memberships(t1)
	return tissue{c, gm, w, true}
}

// Generate synthesises patient index (>= 0) of the data set described by
// cfg. The result depends only on cfg (not cfg.Patients) and index.
func Generate(cfg Config, index int) (*Patient, error) {
	return generate(cfg, index, nil)
}

// Healthy-tissue classes of the map generate can fill (for tests).
const (
	tisNone uint8 = iota // background, tumour or mixed tissue
	tisCSF
	tisGM
	tisWM
)

// generate is Generate; when tissueMap is not nil it is filled with the
// tisXXX class of each voxel.
func generate(cfg Config, index int, tissueMap []uint8) (*Patient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if index < 0 {
		return nil, fmt.Errorf("phantom: patient index %d, want >= 0", index)
	}
	a, err := loadAnatomy(cfg.Anatomy)
	if err != nil {
		return nil, err
	}
	r := patientRand(cfg.Seed, index)
	lgg := cfg.IsLGG(index)
	g := newGeometry(r, a, cfg.Shape)
	if err := g.placeTumour(r, !lgg); err != nil {
		return nil, fmt.Errorf("phantom: patient %s: %w", cfg.PatientID(index), err)
	}
	p := &Patient{Index: index, ID: cfg.PatientID(index), Grade: "HGG", Shape: cfg.Shape}
	if lgg {
		p.Grade = "LGG"
	}
	var rh *rand.Rand
	if cfg.Healthy {
		rh = healthyRand(cfg.Seed, index)
	}
	g.render(r, rh, p, cfg.NoiseStd, tissueMap)
	return p, nil
}

// healthyRand returns the random stream of the noise of patient index's
// healthy counterpart at the brain voxels that are not brain in the
// pathological image; it is independent of patientRand's.
func healthyRand(seed uint64, index int) *rand.Rand {
	return patientRand(seed^saltHealthy, index)
}

// render fills the patient's images and labels, and when rh is not nil the
// healthy counterpart, whose noise at voxels that are not brain in the
// pathological image comes from rh (r's draws do not depend on rh).
func (g *geometry) render(r, rh *rand.Rand, p *Patient, noiseStd float64, tissueMap []uint8) {
	nx, ny, nz := g.shape[0], g.shape[1], g.shape[2]
	n := nx * ny * nz
	imgs := [nMod][]float32{}
	for m := range nMod {
		imgs[m] = make([]float32, n)
	}
	healthy := rh != nil
	var himgs [nMod][]float32
	if healthy {
		for m := range nMod {
			himgs[m] = make([]float32, n)
		}
		p.Healthy = himgs
	}
	p.FLAIR, p.T1, p.T1CE, p.T2 = imgs[mFLAIR], imgs[mT1], imgs[mT1CE], imgs[mT2]
	p.Seg = make([]uint8, n)

	// patient-level scale and smooth bias field per modality
	var scale [nMod]float64
	var bias [nMod][10]float64
	var sigma [nMod]float64
	for m := range nMod {
		scale[m] = modScale[m] * math.Exp(0.15*r.NormFloat64())
		bias[m][0] = 1
		for c := 1; c < 10; c++ {
			std := 0.07
			if c >= 4 {
				std = 0.045
			}
			bias[m][c] = std * r.NormFloat64()
		}
		sigma[m] = noiseStd * scale[m] * max(contrast[m][cCSF], contrast[m][cGM], contrast[m][cWM])
	}
	biasAt := func(m int, p vec3) float64 {
		u, v, w := (p[0]-120)/100, (p[1]-120)/100, (p[2]-80)/80
		b := &bias[m]
		f := b[0] + b[1]*u + b[2]*v + b[3]*w + b[4]*u*u + b[5]*v*v + b[6]*w*w + b[7]*u*v + b[8]*u*w + b[9]*v*w
		return clamp(f, 0.6, 1.5)
	}
	// rician adds Rician noise of level s drawn as (na, nb) standard normals
	// to v and rounds it to a stored voxel value.
	rician := func(v, s, na, nb float64) float32 {
		if s > 0 {
			a, b := v+s*na, s*nb
			v = math.Sqrt(a*a + b*b)
		}
		return float32(clamp(math.Round(v), 1, math.MaxInt16))
	}
	// healthyI is the intensity of healthy tissue ts in modality m at pt.
	healthyI := func(m int, ts tissue, pt vec3) float64 {
		c := &contrast[m]
		h := ts.csf*c[cCSF] + ts.gm*c[cGM] + ts.wm*c[cWM]
		return h * scale[m] * biasAt(m, pt)
	}
	tm := g.tumour
	var I [nMod]float64
	var na, nb [nMod]float64
	for k := 0; k < nz; k++ {
		z := g.mm[2][k]
		if z < g.zlo || z > g.zhi {
			continue
		}
		for j := 0; j < ny; j++ {
			y := g.mm[1][j]
			for i := 0; i < nx; i++ {
				pt := vec3{g.mm[0][i], y, z}
				// ts is the tissue pushed to pt by the mass effect, hs
				// the tissue at pt without the tumour.
				q := pt
				if tm != nil {
					q = tm.massInverse(pt, g)
				}
				ts := g.tissueAt(q)
				var hs tissue
				if healthy {
					hs = ts
					if q != pt {
						hs = g.tissueAt(pt)
					}
				}
				idx := (k*ny+j)*nx + i
				if !ts.ok {
					if hs.ok {
						for m := range nMod {
							s := sigma[m]
							var a, b float64
							if s > 0 {
								a, b = rh.NormFloat64(), rh.NormFloat64()
							}
							himgs[m][idx] = rician(healthyI(m, hs, pt), s, a, b)
						}
					}
					continue
				}
				tw := tumourWeights{tex: 1}
				if tm != nil {
					tw = tm.weights(pt, ts)
				}
				hw := 1 - tw.nec - tw.enh - tw.net - tw.ed
				for m := range nMod {
					c := &contrast[m]
					h := ts.csf*c[cCSF] + ts.gm*c[cGM] + ts.wm*c[cWM]
					v := hw*h + tw.tex*(tw.nec*c[cNEC]+tw.enh*c[cENH]+tw.net*c[cNET]+tw.ed*(0.75*c[cED]+0.25*h))
					I[m] = v * scale[m] * biasAt(m, pt)
				}
				for m := range nMod {
					if s := sigma[m]; s > 0 {
						na[m], nb[m] = r.NormFloat64(), r.NormFloat64()
					}
					imgs[m][idx] = rician(I[m], sigma[m], na[m], nb[m])
				}
				if hs.ok {
					// the same noise draws as the pathological voxel
					for m := range nMod {
						himgs[m][idx] = rician(healthyI(m, hs, pt), sigma[m], na[m], nb[m])
					}
				}
				p.Seg[idx] = tw.label
				if tissueMap != nil && hw == 1 {
					switch {
					case ts.csf > 0.9:
						tissueMap[idx] = tisCSF
					case ts.gm > 0.9:
						tissueMap[idx] = tisGM
					case ts.wm > 0.9:
						tissueMap[idx] = tisWM
					}
				}
			}
		}
	}
}

var errNoPlace = errors.New("no tumour placement in 120 tries leaves at least 3 tumour-free slices and 3 slices with more than 20 tumour voxels in BraTS slices 60..100 (is Config.Shape too coarse?)")
