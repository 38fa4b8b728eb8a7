package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Params holds one random draw of the augmentation: everything [Apply]
// needs to transform an image and its label map identically. The zero
// Params is not valid (Scale must be > 0); use [Identity] for the no-op.
type Params struct {
	// Mirror flips the slice left-right (along W).
	Mirror bool
	// Angle is the rotation angle in radians (positive: clockwise on
	// screen, since y points down).
	Angle float64
	// Scale is the zoom factor about the slice centre (> 1 enlarges).
	Scale float64
	// Grid is the elastic control-point displacement grid. The zero Grid
	// means no elastic deformation.
	Grid Grid
	// ImageFill is the image value used outside the slice.
	ImageFill float32
	// LabelFill is the label used outside the slice.
	LabelFill uint8
}

// Grid is an elastic control-point displacement grid for an H×W slice.
//
// Control point (i, j), 0 <= i < NX, 0 <= j < NY, sits at pixel
// ((i-1)*Spacing, (j-1)*Spacing), so the points start one spacing before
// pixel 0 and end at least two spacings past the last pixel:
// NX = (W-1)/Spacing + 4 and NY = (H-1)/Spacing + 4 (integer division).
// This is exactly the support the cubic interpolation of
// [DisplacementField] needs to cover every pixel. For a 240×240 slice and
// spacing 128 the grid is 5×5 with points at -128, 0, 128, 256 and 384.
//
// The zero Grid (no control points) means no deformation.
type Grid struct {
	// Spacing is the control-point distance in pixels (> 0 unless the
	// Grid is empty).
	Spacing int
	// NX and NY are the numbers of control points along x and y.
	NX, NY int
	// DX and DY hold the x and y displacement components in pixels of
	// control point (i, j) at index j*NX+i; both have length NX*NY.
	DX, DY []float64
}

// gridDims returns the control-grid size for an h×w slice.
func gridDims(h, w, spacing int) (nx, ny int) {
	return (w-1)/spacing + 4, (h-1)/spacing + 4
}

// NewGrid returns an all-zero control-point grid with the given spacing for
// an h×w slice. It panics (a programmer mistake) if h, w or spacing is not
// positive.
func NewGrid(h, w, spacing int) Grid {
	if h <= 0 || w <= 0 || spacing <= 0 {
		panic(fmt.Sprintf("augment: NewGrid(h=%d, w=%d, spacing=%d): all must be > 0", h, w, spacing))
	}
	nx, ny := gridDims(h, w, spacing)
	return Grid{
		Spacing: spacing,
		NX:      nx,
		NY:      ny,
		DX:      make([]float64, nx*ny),
		DY:      make([]float64, nx*ny),
	}
}

// SampleGrid returns a control-point grid for an h×w slice whose
// displacement components are drawn independently from N(0, std²) pixels,
// in the order DX[0], DY[0], DX[1], DY[1], .... It panics (a programmer
// mistake) on a nil rng, non-positive h, w or spacing, or a negative or
// non-finite std.
func SampleGrid(rng *rand.Rand, h, w, spacing int, std float64) Grid {
	if rng == nil {
		panic("augment: SampleGrid: nil *rand.Rand")
	}
	if !(std >= 0) || math.IsInf(std, 0) {
		panic(fmt.Sprintf("augment: SampleGrid: std = %v, want a finite value >= 0", std))
	}
	g := NewGrid(h, w, spacing)
	if std == 0 {
		return g
	}
	for k := range g.DX {
		g.DX[k] = std * rng.NormFloat64()
		g.DY[k] = std * rng.NormFloat64()
	}
	return g
}

// ControlPoint returns the pixel position of control point (i, j):
// ((i-1)*Spacing, (j-1)*Spacing).
func (g Grid) ControlPoint(i, j int) (x, y int) {
	return (i - 1) * g.Spacing, (j - 1) * g.Spacing
}

// IsZero reports whether g causes no deformation: it is empty or all its
// displacements are zero.
func (g Grid) IsZero() bool {
	for k := range g.DX {
		if g.DX[k] != 0 {
			return false
		}
	}
	for k := range g.DY {
		if g.DY[k] != 0 {
			return false
		}
	}
	return true
}

// empty reports whether g has no control points at all.
func (g Grid) empty() bool {
	return g.Spacing == 0 && g.NX == 0 && g.NY == 0 && len(g.DX) == 0 && len(g.DY) == 0
}

// Validate reports whether g can be used for an h×w slice: it must be empty
// or have a positive spacing, the dimensions given by the [Grid]
// documentation, DX and DY of length NX*NY and only finite displacements.
// The error wraps [ErrInvalid] or [ErrShape].
func (g Grid) Validate(h, w int) error {
	if h <= 0 || w <= 0 {
		return fmt.Errorf("%w: slice size h=%d w=%d, want both > 0", ErrShape, h, w)
	}
	if g.empty() {
		return nil
	}
	if g.Spacing <= 0 {
		return fmt.Errorf("%w: Grid.Spacing = %d, want > 0", ErrInvalid, g.Spacing)
	}
	nx, ny := gridDims(h, w, g.Spacing)
	if g.NX != nx || g.NY != ny {
		return fmt.Errorf("%w: Grid is %d×%d (NX×NY) control points, want %d×%d for a %d×%d slice at spacing %d",
			ErrShape, g.NX, g.NY, nx, ny, h, w, g.Spacing)
	}
	if len(g.DX) != nx*ny || len(g.DY) != nx*ny {
		return fmt.Errorf("%w: len(Grid.DX) = %d, len(Grid.DY) = %d, want NX*NY = %d",
			ErrShape, len(g.DX), len(g.DY), nx*ny)
	}
	for k := range g.DX {
		if !isFinite(g.DX[k]) || !isFinite(g.DY[k]) {
			return fmt.Errorf("%w: Grid displacement %d = (%v, %v), want finite values",
				ErrInvalid, k, g.DX[k], g.DY[k])
		}
	}
	return nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Sample draws one random augmentation for an h×w slice from rng, which the
// caller seeds (the result is deterministic for a given generator state).
// The draws are taken in this order: mirror (rng.Float64() < MirrorProb),
// angle, scale exponent, then, if cfg.Elastic, the grid as in [SampleGrid];
// a disabled elastic part gives the zero Grid.
//
// Sample panics with an "augment:" prefix on programmer mistakes: a nil rng,
// h or w <= 0, or a cfg that fails [Config.Validate].
func Sample(rng *rand.Rand, cfg Config, h, w int) Params {
	if rng == nil {
		panic("augment: Sample: nil *rand.Rand")
	}
	if h <= 0 || w <= 0 {
		panic(fmt.Sprintf("augment: Sample: slice size h=%d w=%d, want both > 0", h, w))
	}
	if err := cfg.Validate(); err != nil {
		panic("augment: Sample: " + err.Error())
	}
	p := Params{
		Mirror:    rng.Float64() < cfg.MirrorProb,
		Angle:     (2*rng.Float64() - 1) * cfg.MaxAngle,
		Scale:     math.Pow(cfg.ScaleBase, (2*rng.Float64()-1)*cfg.ScaleExpRange),
		ImageFill: cfg.ImageFill,
		LabelFill: cfg.LabelFill,
	}
	if cfg.Elastic {
		p.Grid = SampleGrid(rng, h, w, cfg.ElasticSpacing, cfg.ElasticStd)
	}
	return p
}

// Identity returns the no-op draw for an h×w slice: no mirroring, angle 0,
// scale 1 and an all-zero control grid at the default spacing (128 px),
// fill values 0. [Apply] with it returns bit-exact copies of its inputs.
// It panics (a programmer mistake) if h or w is not positive.
func Identity(h, w int) Params {
	return Params{Scale: 1, Grid: NewGrid(h, w, DefaultConfig().ElasticSpacing)}
}

// Validate reports whether p can be applied to an h×w slice: Angle finite,
// Scale finite and > 0 (with 1/Scale finite), ImageFill finite and a Grid
// that passes [Grid.Validate]. The error wraps [ErrInvalid] or [ErrShape].
func (p Params) Validate(h, w int) error {
	switch {
	case !isFinite(p.Angle):
		return fmt.Errorf("%w: Params.Angle = %v, want a finite value", ErrInvalid, p.Angle)
	case !isFinite(p.Scale) || p.Scale <= 0 || !isFinite(1/p.Scale):
		return fmt.Errorf("%w: Params.Scale = %v, want a finite value > 0", ErrInvalid, p.Scale)
	case !isFinite(float64(p.ImageFill)):
		return fmt.Errorf("%w: Params.ImageFill = %v, want a finite value", ErrInvalid, p.ImageFill)
	}
	return p.Grid.Validate(h, w)
}
