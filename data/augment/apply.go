package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// checkShape validates h, w, c > 0 and returns h*w*c, guarding against
// integer overflow.
func checkShape(h, w, c int) (int, error) {
	if h <= 0 || w <= 0 || c <= 0 {
		return 0, fmt.Errorf("%w: shape h=%d w=%d c=%d, want all > 0", ErrShape, h, w, c)
	}
	if w > math.MaxInt/h || c > math.MaxInt/(h*w) {
		return 0, fmt.Errorf("%w: shape h=%d w=%d c=%d overflows int", ErrShape, h, w, c)
	}
	return h * w * c, nil
}

// checkImage checks len(img) == h*w*c.
func checkImage(img []float32, h, w, c int) error {
	n, err := checkShape(h, w, c)
	if err != nil {
		return err
	}
	if len(img) != n {
		return fmt.Errorf("%w: len(img) = %d, want h*w*c = %d*%d*%d = %d", ErrShape, len(img), h, w, c, n)
	}
	return nil
}

// checkLabel checks len(label) == h*w.
func checkLabel(label []uint8, h, w int) error {
	n, err := checkShape(h, w, 1)
	if err != nil {
		return err
	}
	if len(label) != n {
		return fmt.Errorf("%w: len(label) = %d, want h*w = %d*%d = %d", ErrShape, len(label), h, w, n)
	}
	return nil
}

// Apply applies the draw p to an image (HWC, c channels) and its label map
// (HW) with one and the same geometric transform, and returns new slices;
// the inputs are not modified. Output pixel (x, y) samples the input at the
// inverse mapping described in the package documentation: rotation by
// -p.Angle and scaling by 1/p.Scale about the slice centre, then the elastic
// displacement d(x, y) of p.Grid (see [DisplacementField]), then the
// left-right mirror if p.Mirror. Image channels are interpolated bilinearly
// (neighbours outside the slice count as p.ImageFill); labels take the
// nearest neighbour (p.LabelFill outside), so they keep their label set.
//
// label may be nil, in which case outLabel is nil. The error (wrapping
// [ErrShape] or [ErrInvalid]) reports a non-positive shape,
// len(img) != h*w*c, len(label) != h*w, or a p that fails
// [Params.Validate].
//
// If p has angle 0, scale 1 and a zero grid, the outputs are bit-exact
// copies (mirrored if p.Mirror) of the inputs.
func Apply(p Params, img []float32, h, w, c int, label []uint8) (outImg []float32, outLabel []uint8, err error) {
	if err := checkImage(img, h, w, c); err != nil {
		return nil, nil, err
	}
	if label != nil {
		if err := checkLabel(label, h, w); err != nil {
			return nil, nil, err
		}
	}
	if err := p.Validate(h, w); err != nil {
		return nil, nil, err
	}
	outImg = make([]float32, len(img))
	if label != nil {
		outLabel = make([]uint8, len(label))
	}
	transform(p, h, w, c, img, outImg, label, outLabel)
	return outImg, outLabel, nil
}

// ApplyImage is [Apply] for an image without a label map.
func ApplyImage(p Params, img []float32, h, w, c int) ([]float32, error) {
	out, _, err := Apply(p, img, h, w, c, nil)
	return out, err
}

// ApplyLabel is [Apply] for a label map alone (nearest-neighbour sampling,
// p.LabelFill outside the slice). The error reports len(label) != h*w, a
// non-positive shape, or an invalid p.
func ApplyLabel(p Params, label []uint8, h, w int) ([]uint8, error) {
	if err := checkLabel(label, h, w); err != nil {
		return nil, err
	}
	if err := p.Validate(h, w); err != nil {
		return nil, err
	}
	out := make([]uint8, len(label))
	transform(p, h, w, 1, nil, nil, label, out)
	return out, nil
}

// Augment is the combined random transform: it checks cfg and the shapes,
// draws one [Params] with [Sample] and applies it to img and label with
// [Apply]. It returns the draw so that it can be logged or replayed. Unlike
// Sample it reports an invalid cfg or a nil rng as an error. label may be
// nil.
func Augment(rng *rand.Rand, cfg Config, img []float32, h, w, c int, label []uint8) (outImg []float32, outLabel []uint8, p Params, err error) {
	if rng == nil {
		return nil, nil, Params{}, fmt.Errorf("%w: nil *rand.Rand", ErrInvalid)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, Params{}, err
	}
	if err := checkImage(img, h, w, c); err != nil {
		return nil, nil, Params{}, err
	}
	if label != nil {
		if err := checkLabel(label, h, w); err != nil {
			return nil, nil, Params{}, err
		}
	}
	p = Sample(rng, cfg, h, w)
	outImg, outLabel, err = Apply(p, img, h, w, c, label)
	return outImg, outLabel, p, err
}

// transform writes the transformed img (if non-nil) into out and the
// transformed label (if non-nil) into outLab. All shapes and p are valid.
func transform(p Params, h, w, c int, img, out []float32, lab, outLab []uint8) {
	if p.Angle == 0 && p.Scale == 1 && p.Grid.IsZero() {
		// Pure copy or mirror: exact by construction (even for NaNs).
		if p.Mirror {
			if img != nil {
				mirrorInto(out, img, h, w, c)
			}
			if lab != nil {
				mirrorInto(outLab, lab, h, w, 1)
			}
		} else {
			copy(out, img)
			copy(outLab, lab)
		}
		return
	}
	resample(p, h, w, c, img, out, lab, outLab)
}

// resample is the general inverse-mapping loop. Coordinates are computed so
// that angle 0 and scale 1 give exact integers: cx + 1*(x-cx) + 0 == x for
// the small integers and half-integers involved.
func resample(p Params, h, w, c int, img, out []float32, lab, outLab []uint8) {
	cx := float64(w-1) / 2
	cy := float64(h-1) / 2
	sin, cos := math.Sincos(p.Angle)
	a := cos / p.Scale
	b := sin / p.Scale
	fw, fh := float64(w), float64(h)
	xMax := float64(w - 1)
	fld := newField(p.Grid, w)
	fill := p.ImageFill
	lfill := p.LabelFill

	for y := range h {
		ry := float64(y) - cy
		bx := cx + b*ry
		by := cy + a*ry
		var dx, dy []float64
		if fld != nil {
			fld.row(y)
			dx, dy = fld.dx, fld.dy
		}
		for x := range w {
			rx := float64(x) - cx
			xs := bx + a*rx
			ys := by - b*rx
			if fld != nil {
				xs += dx[x]
				ys += dy[x]
			}
			if p.Mirror {
				xs = xMax - xs
			}
			pix := y*w + x

			if outLab != nil {
				// Nearest neighbour, ties rounded up.
				if xs >= -0.5 && xs < fw-0.5 && ys >= -0.5 && ys < fh-0.5 {
					xi := int(math.Floor(xs + 0.5))
					yi := int(math.Floor(ys + 0.5))
					outLab[pix] = lab[yi*w+xi]
				} else {
					outLab[pix] = lfill
				}
			}
			if out == nil {
				continue
			}

			o := out[pix*c : pix*c+c]
			// Also rejects NaN coordinates.
			if !(xs > -1 && xs < fw && ys > -1 && ys < fh) {
				for k := range o {
					o[k] = fill
				}
				continue
			}
			x0f := math.Floor(xs)
			y0f := math.Floor(ys)
			fx := xs - x0f
			fy := ys - y0f
			x0 := int(x0f)
			y0 := int(y0f)
			if fx == 0 && fy == 0 {
				// Exact integer position (inside, since xs > -1).
				copy(o, img[(y0*w+x0)*c:(y0*w+x0)*c+c])
				continue
			}
			w00 := float32((1 - fx) * (1 - fy))
			w10 := float32(fx * (1 - fy))
			w01 := float32((1 - fx) * fy)
			w11 := float32(fx * fy)
			if x0 >= 0 && y0 >= 0 && x0+1 < w && y0+1 < h {
				i00 := (y0*w + x0) * c
				i01 := i00 + w*c
				p00 := img[i00 : i00+c]
				p10 := img[i00+c : i00+2*c]
				p01 := img[i01 : i01+c]
				p11 := img[i01+c : i01+2*c]
				for k := range o {
					o[k] = w00*p00[k] + w10*p10[k] + w01*p01[k] + w11*p11[k]
				}
				continue
			}
			// Border: outside neighbours take the fill value.
			p00 := pixelOrNil(img, x0, y0, w, h, c)
			p10 := pixelOrNil(img, x0+1, y0, w, h, c)
			p01 := pixelOrNil(img, x0, y0+1, w, h, c)
			p11 := pixelOrNil(img, x0+1, y0+1, w, h, c)
			for k := range o {
				o[k] = w00*valOr(p00, k, fill) + w10*valOr(p10, k, fill) +
					w01*valOr(p01, k, fill) + w11*valOr(p11, k, fill)
			}
		}
	}
}

// pixelOrNil returns the channels of pixel (x, y), or nil outside the slice.
func pixelOrNil(img []float32, x, y, w, h, c int) []float32 {
	if x < 0 || y < 0 || x >= w || y >= h {
		return nil
	}
	i := (y*w + x) * c
	return img[i : i+c]
}

func valOr(px []float32, k int, fill float32) float32 {
	if px == nil {
		return fill
	}
	return px[k]
}
