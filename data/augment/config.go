package augment

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalid is wrapped by the errors returned for invalid [Config] or
// [Params] values.
var ErrInvalid = errors.New("augment: invalid value")

// ErrShape is wrapped by the errors returned when a slice length does not
// match the given shape, or the shape itself is not positive.
var ErrShape = errors.New("augment: shape mismatch")

// Config holds the hyper-parameters of the random augmentation (paper
// section 2.5). Use [DefaultConfig] for the paper's values and
// [Config.Validate] before sampling.
type Config struct {
	// MirrorProb is the probability of a left-right flip (along W),
	// in [0, 1]. Paper: 0.5.
	MirrorProb float64

	// MaxAngle is the largest rotation magnitude in radians; the angle is
	// drawn from U[-MaxAngle, MaxAngle]. Must be >= 0. Paper: 0.1.
	MaxAngle float64

	// ScaleBase and ScaleExpRange define the scaling s = ScaleBase^r with
	// r drawn from U[-ScaleExpRange, ScaleExpRange]. ScaleBase must be
	// > 0 and ScaleExpRange >= 0. Paper: 1.1 and 1.
	ScaleBase     float64
	ScaleExpRange float64

	// Elastic enables the random elastic deformation. Paper: true.
	Elastic bool

	// ElasticSpacing is the distance in pixels between elastic control
	// points; it must be > 0 (checked even when Elastic is false).
	// Paper: 128.
	ElasticSpacing int

	// ElasticStd is the standard deviation in pixels of both components of
	// every control-point displacement vector, drawn from
	// N(0, ElasticStd²). Must be >= 0. Paper: 5.
	ElasticStd float64

	// ImageFill is the image value used for samples outside the slice.
	// Must be finite. Default 0 (the background intensity).
	ImageFill float32

	// LabelFill is the label used for samples outside the slice.
	// Default 0 (BraTS background).
	LabelFill uint8
}

// DefaultConfig returns the augmentation settings of paper section 2.5:
// mirroring with probability 0.5, rotation from U[-0.1, 0.1] rad, scaling
// 1.1^r with r from U[-1, 1], and elastic deformation with grid spacing
// 128 px and displacement components from N(0, 5²) px; fill values 0.
func DefaultConfig() Config {
	return Config{
		MirrorProb:     0.5,
		MaxAngle:       0.1,
		ScaleBase:      1.1,
		ScaleExpRange:  1,
		Elastic:        true,
		ElasticSpacing: 128,
		ElasticStd:     5,
		ImageFill:      0,
		LabelFill:      0,
	}
}

// Validate reports the first nonsensical field of cfg, naming the field and
// its value, or nil if cfg can be used with [Sample]. The error wraps
// [ErrInvalid].
func (cfg Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%w: Config.%s = %v, want %s", ErrInvalid, field, v, want)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !(cfg.MirrorProb >= 0 && cfg.MirrorProb <= 1):
		return bad("MirrorProb", cfg.MirrorProb, "a probability in [0, 1]")
	case !finite(cfg.MaxAngle) || cfg.MaxAngle < 0:
		return bad("MaxAngle", cfg.MaxAngle, "a finite value >= 0 (radians)")
	case !finite(cfg.ScaleBase) || cfg.ScaleBase <= 0:
		return bad("ScaleBase", cfg.ScaleBase, "a finite value > 0")
	case !finite(cfg.ScaleExpRange) || cfg.ScaleExpRange < 0:
		return bad("ScaleExpRange", cfg.ScaleExpRange, "a finite value >= 0")
	case cfg.ElasticSpacing <= 0:
		return bad("ElasticSpacing", cfg.ElasticSpacing, "a spacing > 0 (pixels)")
	case !finite(cfg.ElasticStd) || cfg.ElasticStd < 0:
		return bad("ElasticStd", cfg.ElasticStd, "a finite value >= 0 (pixels)")
	case !finite(float64(cfg.ImageFill)):
		return bad("ImageFill", cfg.ImageFill, "a finite value")
	}
	// The extreme scales must be usable (finite and non-zero).
	for _, r := range []float64{-cfg.ScaleExpRange, cfg.ScaleExpRange} {
		if s := math.Pow(cfg.ScaleBase, r); !finite(s) || s <= 0 || !finite(1/s) {
			return fmt.Errorf("%w: Config.ScaleBase^±ScaleExpRange = %v^%v = %v, want a finite scale > 0",
				ErrInvalid, cfg.ScaleBase, r, s)
		}
	}
	return nil
}
