package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
)

// viridisStops are nine evenly spaced colours of the viridis colour map
// (perceptually uniform, readable in grey and by colour-blind readers), from
// dark purple at 0 to yellow at 1.
var viridisStops = [...]color.RGBA{
	{0x44, 0x01, 0x54, 0xff},
	{0x47, 0x2d, 0x7b, 0xff},
	{0x3b, 0x52, 0x8b, 0xff},
	{0x2c, 0x72, 0x8e, 0xff},
	{0x21, 0x91, 0x8c, 0xff},
	{0x28, 0xae, 0x80, 0xff},
	{0x5e, 0xc9, 0x62, 0xff},
	{0xad, 0xdc, 0x30, 0xff},
	{0xfd, 0xe7, 0x25, 0xff},
}

// nanColor marks NaN values in heat maps.
var nanColor = color.RGBA{0x80, 0x80, 0x80, 0xff}

// Viridis returns the colour of t in a viridis-like colour map: t is clipped
// to [0, 1] and interpolated linearly between nine viridis stops; NaN is grey.
func Viridis(t float64) color.RGBA {
	if math.IsNaN(t) {
		return nanColor
	}
	t = min(max(t, 0), 1)
	f := t * float64(len(viridisStops)-1)
	i := min(int(f), len(viridisStops)-2)
	u := f - float64(i)
	a, b := viridisStops[i], viridisStops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + u*(float64(y)-float64(x)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// heatPlane renders h×w values (a labelmap, [0, 1]) in the viridis colour map.
func heatPlane(p []float32, h, w int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dst.SetRGBA(x, y, Viridis(float64(p[y*w+x])))
		}
	}
	return dst
}

// Heatmap returns channel 0 of the labelmap lbl (values in [0, 1], clipped) in
// a viridis-like colour map, pixel-replicated by scale (scale < 1 is taken as
// 1), without axes. NaN pixels are grey. It panics if lbl is malformed.
func Heatmap(lbl Image, scale int) image.Image {
	lbl.check("Heatmap")
	return upscale(heatPlane(lbl.Channel(0).Pix, lbl.H, lbl.W), scale)
}

// viridisMap is the viridis colour map as a gonum palette.ColorMap, for plot
// heat maps and colour bars.
type viridisMap struct {
	min, max, alpha float64
}

var _ palette.ColorMap = (*viridisMap)(nil)

func newViridisMap(lo, hi float64) *viridisMap { return &viridisMap{min: lo, max: hi, alpha: 1} }

// At implements palette.ColorMap.
func (m *viridisMap) At(v float64) (color.Color, error) {
	if v < m.min || v > m.max || math.IsNaN(v) {
		return nil, fmt.Errorf("viz: value %g outside the colour map range [%g, %g]", v, m.min, m.max)
	}
	c := Viridis((v - m.min) / (m.max - m.min))
	a := m.alpha
	return color.NRGBA{c.R, c.G, c.B, uint8(math.Round(255 * a))}, nil
}

// Max, SetMax, Min, SetMin, Alpha and SetAlpha implement palette.ColorMap.
func (m *viridisMap) Max() float64       { return m.max }
func (m *viridisMap) SetMax(v float64)   { m.max = v }
func (m *viridisMap) Min() float64       { return m.min }
func (m *viridisMap) SetMin(v float64)   { m.min = v }
func (m *viridisMap) Alpha() float64     { return m.alpha }
func (m *viridisMap) SetAlpha(a float64) { m.alpha = a }

// Palette implements palette.ColorMap: n colours evenly spaced over [0, 1].
func (m *viridisMap) Palette(n int) palette.Palette {
	cs := make(colors, n)
	for i := range cs {
		t := 0.0
		if n > 1 {
			t = float64(i) / float64(n-1)
		}
		cs[i] = Viridis(t)
	}
	return cs
}

// colors is a palette.Palette.
type colors []color.Color

func (c colors) Colors() []color.Color { return c }
