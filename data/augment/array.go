package augment

import "fmt"

// mirrorInto writes src flipped along W into dst (both HWC with c
// channels, same length, not overlapping).
func mirrorInto[T any](dst, src []T, h, w, c int) {
	if c == 1 {
		for y := range h {
			s := src[y*w : (y+1)*w]
			d := dst[y*w : (y+1)*w]
			for x := range s {
				d[w-1-x] = s[x]
			}
		}
		return
	}
	for y := range h {
		row := y * w
		for x := range w {
			copy(dst[(row+w-1-x)*c:(row+w-x)*c], src[(row+x)*c:(row+x+1)*c])
		}
	}
}

// Mirror returns a left-right flipped copy of data, an HWC array with c
// channels (use c = 1 for a label map): pixel (x, y) moves to (w-1-x, y).
// Mirror(Mirror(a)) is exactly a. The error (wrapping [ErrShape]) reports
// a non-positive shape or len(data) != h*w*c.
func Mirror[T any](data []T, h, w, c int) ([]T, error) {
	n, err := checkShape(h, w, c)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, fmt.Errorf("%w: len(data) = %d, want h*w*c = %d*%d*%d = %d", ErrShape, len(data), h, w, c, n)
	}
	out := make([]T, n)
	mirrorInto(out, data, h, w, c)
	return out, nil
}

// Rotate returns img (HWC, c channels) rotated by angle radians about the
// slice centre (positive: clockwise on screen, since y points down), with
// bilinear interpolation and fill for samples outside the slice. For a
// label map use [ApplyLabel] with Params{Angle: angle, Scale: 1}.
func Rotate(img []float32, h, w, c int, angle float64, fill float32) ([]float32, error) {
	return ApplyImage(Params{Angle: angle, Scale: 1, ImageFill: fill}, img, h, w, c)
}

// Scale returns img (HWC, c channels) zoomed by s about the slice centre
// (s > 1 enlarges), with bilinear interpolation and fill for samples outside
// the slice. For a label map use [ApplyLabel] with Params{Scale: s}.
func Scale(img []float32, h, w, c int, s float64, fill float32) ([]float32, error) {
	return ApplyImage(Params{Scale: s, ImageFill: fill}, img, h, w, c)
}

// Deform returns img (HWC, c channels) elastically deformed by the control
// grid g: output pixel (x, y) samples the input bilinearly at
// (x, y) + d(x, y), with d from [DisplacementField] and fill outside the
// slice. For a label map use [ApplyLabel] with Params{Scale: 1, Grid: g}.
func Deform(img []float32, h, w, c int, g Grid, fill float32) ([]float32, error) {
	return ApplyImage(Params{Scale: 1, Grid: g, ImageFill: fill}, img, h, w, c)
}
