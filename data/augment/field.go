package augment

// catmullRom returns the four Catmull-Rom (uniform cubic Hermite) weights
// for the fractional position u in [0, 1) between the second and third of
// four consecutive control points.
func catmullRom(u float64) (w0, w1, w2, w3 float64) {
	u2 := u * u
	u3 := u2 * u
	w0 = 0.5 * (-u3 + 2*u2 - u)
	w1 = 0.5 * (3*u3 - 5*u2 + 2)
	w2 = 0.5 * (-3*u3 + 4*u2 + u)
	w3 = 0.5 * (u3 - u2)
	return
}

// field evaluates the dense displacement of a Grid one output row at a
// time, separably: the x interpolation is done once per grid row (rx, ry:
// NY×W values), the y interpolation per output row into dx, dy (W values).
type field struct {
	g      Grid
	w      int
	rx, ry []float64 // [j*w+x]: grid row j interpolated along x at pixel x
	dx, dy []float64 // displacement of the current output row
}

// newField prepares the evaluation of g on an h×w slice; g must be valid for
// that size. It returns nil when g causes no deformation.
func newField(g Grid, w int) *field {
	if g.IsZero() {
		return nil
	}
	f := &field{
		g:  g,
		w:  w,
		rx: make([]float64, g.NY*w),
		ry: make([]float64, g.NY*w),
		dx: make([]float64, w),
		dy: make([]float64, w),
	}
	s := g.Spacing
	for x := range w {
		k := x / s
		w0, w1, w2, w3 := catmullRom(float64(x-k*s) / float64(s))
		for j := range g.NY {
			row := j * g.NX
			cx := g.DX[row+k : row+k+4]
			cy := g.DY[row+k : row+k+4]
			f.rx[j*w+x] = w0*cx[0] + w1*cx[1] + w2*cx[2] + w3*cx[3]
			f.ry[j*w+x] = w0*cy[0] + w1*cy[1] + w2*cy[2] + w3*cy[3]
		}
	}
	return f
}

// row fills f.dx and f.dy with the displacement of output row y.
func (f *field) row(y int) {
	s := f.g.Spacing
	l := y / s
	v0, v1, v2, v3 := catmullRom(float64(y-l*s) / float64(s))
	w := f.w
	x0, x1, x2, x3 := f.rx[l*w:(l+1)*w], f.rx[(l+1)*w:(l+2)*w], f.rx[(l+2)*w:(l+3)*w], f.rx[(l+3)*w:(l+4)*w]
	y0, y1, y2, y3 := f.ry[l*w:(l+1)*w], f.ry[(l+1)*w:(l+2)*w], f.ry[(l+2)*w:(l+3)*w], f.ry[(l+3)*w:(l+4)*w]
	dx, dy := f.dx[:w], f.dy[:w]
	for x := range dx {
		dx[x] = v0*x0[x] + v1*x1[x] + v2*x2[x] + v3*x3[x]
		dy[x] = v0*y0[x] + v1*y1[x] + v2*y2[x] + v3*y3[x]
	}
}

// DisplacementField returns the dense elastic displacement of g at every
// pixel of an h×w slice, as two slices indexed y*w+x (in pixels).
//
// The control-point displacements are interpolated with a separable
// Catmull-Rom spline (the uniform cubic Hermite interpolating spline; C1
// smooth, 4×4 control points per pixel). With S = g.Spacing, a pixel (x, y)
// lies in the cell k = ⌊x/S⌋, l = ⌊y/S⌋ with local coordinates
// u = x/S - k and v = y/S - l in [0, 1), and
//
//	d(x, y) = Σ_{a=0..3} Σ_{b=0..3} c_a(u) c_b(v) D[l+b][k+a]
//
// where D[j][i] is the displacement of control point (i, j) (at pixel
// ((i-1)S, (j-1)S), see [Grid]) and the Catmull-Rom weights are
//
//	c_0(t) = (-t³ + 2t² - t)/2,   c_1(t) = (3t³ - 5t² + 2)/2,
//	c_2(t) = (-3t³ + 4t² + t)/2,  c_3(t) = (t³ - t²)/2.
//
// Unlike an approximating cubic B-spline, this interpolates: at a control
// point (u = v = 0) the weights are (0, 1, 0, 0) and d equals that point's
// drawn displacement exactly, so the dense field keeps the N(0, std²)
// amplitude of the paper's grid vectors at the grid points. The weights
// sum to 1, so a constant grid gives a constant field.
//
// An empty or all-zero grid gives all-zero fields. The error (wrapping
// [ErrShape] or [ErrInvalid]) reports a grid that does not fit h×w.
func DisplacementField(g Grid, h, w int) (dx, dy []float64, err error) {
	if err := g.Validate(h, w); err != nil {
		return nil, nil, err
	}
	if _, err := checkShape(h, w, 1); err != nil {
		return nil, nil, err
	}
	dx = make([]float64, h*w)
	dy = make([]float64, h*w)
	f := newField(g, w)
	if f == nil {
		return dx, dy, nil
	}
	for y := range h {
		f.row(y)
		copy(dx[y*w:(y+1)*w], f.dx)
		copy(dy[y*w:(y+1)*w], f.dy)
	}
	return dx, dy, nil
}
