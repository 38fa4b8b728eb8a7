package viz

import (
	"fmt"
	"image"
	"math"
)

// ChannelNames are the names of the four MR channels in the toolkit's order.
var ChannelNames = []string{"FLAIR", "T1", "T1CE", "T2"}

// Intensity range of normalised MR images: Gray maps IntensityLo to black and
// IntensityHi to white in the figures of this package (background 0 is mid grey).
const (
	IntensityLo float32 = -1
	IntensityHi float32 = 1
)

// Image is one slice: H×W pixels × C channels, row-major, channel last, so the
// value of channel c at row y, column x is Pix[(y*W+x)*C+c].
type Image struct {
	H, W, C int
	Pix     []float32
}

// NewImage returns the Image of h×w pixels with c channels held by pix. It
// returns an error if a dimension is not positive or len(pix) != h*w*c. pix is
// not copied.
func NewImage(h, w, c int, pix []float32) (Image, error) {
	if h <= 0 || w <= 0 || c <= 0 {
		return Image{}, fmt.Errorf("viz: NewImage: dimensions %d×%d×%d must be positive", h, w, c)
	}
	if len(pix) != h*w*c {
		return Image{}, fmt.Errorf("viz: NewImage: %d values for %d×%d×%d (want %d)", len(pix), h, w, c, h*w*c)
	}
	return Image{H: h, W: w, C: c, Pix: pix}, nil
}

// MustImage is NewImage that panics on error, for literals in notebooks and
// tests.
func MustImage(h, w, c int, pix []float32) Image {
	im, err := NewImage(h, w, c, pix)
	if err != nil {
		panic(err)
	}
	return im
}

// At returns the value of channel c at row y, column x.
func (im Image) At(y, x, c int) float32 { return im.Pix[(y*im.W+x)*im.C+c] }

// Channel returns channel c as a new single-channel Image (a copy). It panics
// if c is out of range.
func (im Image) Channel(c int) Image {
	im.check("Channel")
	if c < 0 || c >= im.C {
		panic(fmt.Sprintf("viz: Channel: channel %d out of range [0, %d)", c, im.C))
	}
	out := make([]float32, im.H*im.W)
	for i := range out {
		out[i] = im.Pix[i*im.C+c]
	}
	return Image{H: im.H, W: im.W, C: 1, Pix: out}
}

// valid reports whether the Image has positive dimensions and a Pix of the
// matching length.
func (im Image) valid() bool {
	return im.H > 0 && im.W > 0 && im.C > 0 && len(im.Pix) == im.H*im.W*im.C
}

// malformed is the error, or panic message, for an invalid Image.
func malformed(fn string, im Image) error {
	return fmt.Errorf("viz: %s: malformed Image %d×%d×%d with %d values", fn, im.H, im.W, im.C, len(im.Pix))
}

// check panics if the Image is not valid.
func (im Image) check(fn string) {
	if !im.valid() {
		panic(malformed(fn, im).Error())
	}
}

// checkPlane panics if p does not hold one value per pixel of im.
func (im Image) checkPlane(fn, what string, p []float32) {
	if len(p) != im.H*im.W {
		panic(fmt.Sprintf("viz: %s: %s has %d values, want %d (%d×%d)", fn, what, len(p), im.H*im.W, im.H, im.W))
	}
}

// Gray returns channel ch of im as a grey image, mapping lo to 0 and hi to 255
// linearly and clipping values outside [lo, hi]:
//
//	g = round(255 · (v − lo) / (hi − lo)), clipped to [0, 255]; NaN gives 0.
//
// It panics if ch is out of range or hi <= lo.
func Gray(im Image, ch int, lo, hi float32) *image.Gray {
	im.check("Gray")
	if ch < 0 || ch >= im.C {
		panic(fmt.Sprintf("viz: Gray: channel %d out of range [0, %d)", ch, im.C))
	}
	if !(hi > lo) {
		panic(fmt.Sprintf("viz: Gray: hi (%g) must be greater than lo (%g)", hi, lo))
	}
	g := image.NewGray(image.Rect(0, 0, im.W, im.H))
	for y := range im.H {
		for x := range im.W {
			g.Pix[y*g.Stride+x] = grayLevel(im.At(y, x, ch), lo, hi)
		}
	}
	return g
}

// grayLevel maps v in [lo, hi] to 0..255, clipped; NaN gives 0.
func grayLevel(v, lo, hi float32) uint8 {
	t := (float64(v) - float64(lo)) / (float64(hi) - float64(lo))
	switch {
	case math.IsNaN(t) || t <= 0:
		return 0
	case t >= 1:
		return 255
	}
	return uint8(math.Round(255 * t))
}
