package viz

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// plotDPI is the resolution at which plots are rasterised: fonts sized in
// points come out at 96/72 pixels per point.
const plotDPI = 96

// renderPlot draws onto a white w×h pixel canvas with paint and returns it as
// PNG bytes. A panic inside gonum/plot is returned as an error.
func renderPlot(fn string, w, h int, paint func(dc draw.Canvas)) (b []byte, err error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("viz: %s: size %d×%d pixels must be positive", fn, w, h)
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("viz: %s: drawing the plot: %v", fn, r)
		}
	}()
	c := vgimg.NewWith(vgimg.UseImage(image.NewRGBA(image.Rect(0, 0, w, h))), vgimg.UseDPI(plotDPI))
	paint(draw.New(c))
	var buf bytes.Buffer
	if err := png.Encode(&buf, c.Image()); err != nil {
		return nil, fmt.Errorf("viz: %s: %w", fn, err)
	}
	return buf.Bytes(), nil
}

// px converts pixels to plot lengths at plotDPI.
func px(n float64) vg.Length { return vg.Length(n) * vg.Inch / plotDPI }

// styleSmall sets the font sizes of a small panel.
func styleSmall(p *plot.Plot) {
	p.Title.TextStyle.Font.Size = vg.Points(10)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(9)
		a.Tick.Label.Font.Size = vg.Points(8)
	}
}

// labelGrid is a labelmap as a plotter.GridXYZ, upside down so that image row
// 0 comes out at the top: grid row r is image row h-1-r.
type labelGrid struct {
	p    []float32
	h, w int
}

func (g labelGrid) Dims() (c, r int)   { return g.w, g.h }
func (g labelGrid) Z(c, r int) float64 { return float64(g.p[(g.h-1-r)*g.w+c]) }
func (g labelGrid) X(c int) float64    { return float64(c) }
func (g labelGrid) Y(r int) float64    { return float64(r) }
func (g labelGrid) Min() float64       { return 0 }
func (g labelGrid) Max() float64       { return 1 }

// HeatmapPlot returns a PNG, widthPx pixels wide, of channel 0 of the labelmap
// lbl as a gonum/plot heat map over pixel columns and rows (row 0 at the top)
// in a viridis-like colour map fixed to [0, 1] (values outside are clipped,
// NaN is grey), with a colour bar on the right. The height follows the
// labelmap's aspect ratio. It returns an error if lbl is malformed or widthPx
// is too small (under 120).
func HeatmapPlot(lbl Image, title string, widthPx int) ([]byte, error) {
	const fn = "HeatmapPlot"
	if !lbl.valid() {
		return nil, malformed(fn, lbl)
	}
	if widthPx < 120 {
		return nil, fmt.Errorf("viz: %s: width %d pixels is too small (want at least 120)", fn, widthPx)
	}
	const barW = 70 // colour bar with its tick labels
	mainW := widthPx - barW
	dataW := float64(mainW - 45) // less the y axis
	extra := 50.0                // x axis
	if title != "" {
		extra += 20
	}
	heightPx := int(math.Round(dataW*float64(lbl.H)/float64(lbl.W) + extra))
	grid := labelGrid{p: lbl.Channel(0).Pix, h: lbl.H, w: lbl.W}
	return renderPlot(fn, widthPx, heightPx, func(dc draw.Canvas) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "column"
		p.Y.Label.Text = "row"
		p.Y.Tick.Marker = rowTicks{h: lbl.H}
		styleSmall(p)
		hm := plotter.NewHeatMap(grid, newViridisMap(0, 1).Palette(256))
		hm.Rasterized = true
		hm.Underflow, hm.Overflow, hm.NaN = Viridis(0), Viridis(1), nanColor
		p.Add(hm)
		main := draw.Crop(dc, 0, -px(barW), 0, 0)
		p.Draw(main)

		data := p.DataCanvas(main)
		bar := plot.New()
		cb := &plotter.ColorBar{ColorMap: newViridisMap(0, 1), Vertical: true}
		bar.Add(cb)
		bar.HideX()
		bar.Y.Padding = 0
		styleSmall(bar)
		bc := draw.Crop(dc, px(float64(mainW)+8), -px(6), 0, 0)
		bc.Min.Y, bc.Max.Y = data.Min.Y, data.Max.Y
		bar.Draw(bc)
	})
}

// rowTicks label the y axis of a labelGrid with image rows: the default ticks
// of the row range, placed at y = h-1-row.
type rowTicks struct{ h int }

func (t rowTicks) Ticks(lo, hi float64) []plot.Tick {
	top := float64(t.h - 1)
	ticks := plot.DefaultTicks{}.Ticks(top-hi, top-lo)
	for i := range ticks {
		ticks[i].Value = top - ticks[i].Value
	}
	return ticks
}

// stepTicks label a step axis at round steps: the default ticks of the range
// extended down to 0, kept where they fall inside it. The default ticks of
// [1, 4500] alone are 500, 2500 and 4500.
type stepTicks struct{}

func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(math.Min(0, lo), hi) {
		if t.Value >= lo && t.Value <= hi {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// CurveOptions tune TrainingCurvesWith.
type CurveOptions struct {
	// Smooth is the window, in rows, of the trailing moving average drawn over
	// each raw curve: 0 picks one (about 1/25 of the rows, none under 50 rows),
	// 1 draws the raw curve only.
	Smooth int
}

// TrainingCurves returns a PNG of widthPx×heightPx pixels with one small panel
// per loss column of a training-history CSV (the pathogan package's
// losses.csv): the header must hold "step" and "seconds", and every column
// after "seconds" is a loss, drawn against the step, with a moving average
// over it when there are many rows. Empty, NaN and infinite values are
// skipped. It returns an error, naming what is wrong, for an empty CSV, a
// header without "step" or "seconds" or without loss columns, no data rows,
// or a value that is not a number.
func TrainingCurves(r io.Reader, widthPx, heightPx int) ([]byte, error) {
	return TrainingCurvesWith(r, CurveOptions{}, widthPx, heightPx)
}

// TrainingCurvesFile is TrainingCurves on the CSV file at path.
func TrainingCurvesFile(path string, widthPx, heightPx int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("viz: TrainingCurves: %w", err)
	}
	defer f.Close()
	b, err := TrainingCurves(f, widthPx, heightPx)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return b, nil
}

// TrainingCurvesWith is TrainingCurves with options.
func TrainingCurvesWith(r io.Reader, opt CurveOptions, widthPx, heightPx int) ([]byte, error) {
	const fn = "TrainingCurves"
	curves, err := readCurves(r)
	if err != nil {
		return nil, err
	}
	n := len(curves)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	return renderPlot(fn, widthPx, heightPx, func(dc draw.Canvas) {
		plots := make([][]*plot.Plot, rows)
		for j := range plots {
			plots[j] = make([]*plot.Plot, cols)
		}
		for i, c := range curves {
			p := plot.New()
			styleSmall(p)
			p.Title.Text = c.name
			p.X.Tick.Marker = stepTicks{}
			if len(c.xy) == 0 {
				p.Title.Text += " (no values)"
			}
			if i/cols == rows-1 || i+cols >= n {
				p.X.Label.Text = "step"
			}
			window := opt.Smooth
			if window == 0 {
				window = 1
				if len(c.xy) >= 50 {
					window = len(c.xy) / 25
				}
			}
			if len(c.xy) > 0 {
				raw, err := plotter.NewLine(c.xy)
				if err != nil {
					panic(err)
				}
				raw.Color = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
				raw.Width = vg.Points(0.75)
				if window > 1 {
					raw.Color = color.RGBA{0xa6, 0xc8, 0xe4, 0xff}
				}
				p.Add(raw)
				if window > 1 {
					avg, err := plotter.NewLine(movingAverage(c.xy, window))
					if err != nil {
						panic(err)
					}
					avg.Color = color.RGBA{0xd6, 0x27, 0x28, 0xff}
					avg.Width = vg.Points(1.25)
					p.Add(avg)
				}
			}
			plots[i/cols][i%cols] = p
		}
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: px(12), PadY: px(12), PadTop: px(4), PadBottom: px(4), PadLeft: px(4), PadRight: px(8)}
		canvases := plot.Align(plots, tiles, dc)
		for j := range plots {
			for i, p := range plots[j] {
				if p != nil {
					p.Draw(canvases[j][i])
				}
			}
		}
	})
}

// curve is one loss column of a training history.
type curve struct {
	name string
	xy   plotter.XYs
}

// readCurves reads a training-history CSV: the loss columns after "seconds",
// against "step", finite values only.
func readCurves(r io.Reader) ([]curve, error) {
	const fn = "TrainingCurves"
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("viz: %s: empty CSV, want a header \"step,lr,seconds,<loss names...>\"", fn)
	}
	if err != nil {
		return nil, fmt.Errorf("viz: %s: reading the header: %w", fn, err)
	}
	col := func(name string) int {
		for i, h := range header {
			if strings.TrimSpace(h) == name {
				return i
			}
		}
		return -1
	}
	step, secs := col("step"), col("seconds")
	for _, c := range []struct {
		name string
		i    int
	}{{"step", step}, {"seconds", secs}} {
		if c.i < 0 {
			return nil, fmt.Errorf("viz: %s: header %q lacks the column %q (want \"step,lr,seconds,<loss names...>\")", fn, strings.Join(header, ","), c.name)
		}
	}
	if secs == len(header)-1 {
		return nil, fmt.Errorf("viz: %s: header %q has no loss columns after \"seconds\"", fn, strings.Join(header, ","))
	}
	curves := make([]curve, 0, len(header)-secs-1)
	for _, h := range header[secs+1:] {
		curves = append(curves, curve{name: strings.TrimSpace(h)})
	}
	rowsRead := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("viz: %s: %w", fn, err)
		}
		rowsRead++
		line, _ := cr.FieldPos(0)
		x, err := strconv.ParseFloat(strings.TrimSpace(rec[step]), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("viz: %s: line %d: step %q is not a number", fn, line, rec[step])
		}
		for k := range curves {
			s := strings.TrimSpace(rec[secs+1+k])
			if s == "" {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("viz: %s: line %d, column %q: %q is not a number", fn, line, curves[k].name, s)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			curves[k].xy = append(curves[k].xy, plotter.XY{X: x, Y: v})
		}
	}
	if rowsRead == 0 {
		return nil, fmt.Errorf("viz: %s: no data rows after the header", fn)
	}
	return curves, nil
}

// movingAverage returns the trailing mean of the last window points at each
// point (fewer at the start).
func movingAverage(xy plotter.XYs, window int) plotter.XYs {
	out := make(plotter.XYs, len(xy))
	sum := 0.0
	for i, p := range xy {
		sum += p.Y
		if i >= window {
			sum -= xy[i-window].Y
		}
		out[i] = plotter.XY{X: p.X, Y: sum / float64(min(i+1, window))}
	}
	return out
}

// Group is one named set of metric values (for example the per-slice Dice of
// one method). NaN and infinite values are dropped and counted in the label,
// e.g. "PathoGAN (n=120, 3 NaN)".
type Group struct {
	Name   string
	Values []float64
}

// clean returns the finite values of g, its label, and an error if none is
// left.
func (g Group) clean(fn string) (plotter.Values, string, error) {
	var vs plotter.Values
	nan, inf := 0, 0
	for _, v := range g.Values {
		switch {
		case math.IsNaN(v):
			nan++
		case math.IsInf(v, 0):
			inf++
		default:
			vs = append(vs, v)
		}
	}
	label := fmt.Sprintf("%s (n=%d", g.Name, len(vs))
	if nan > 0 {
		label += fmt.Sprintf(", %d NaN", nan)
	}
	if inf > 0 {
		label += fmt.Sprintf(", %d Inf", inf)
	}
	label += ")"
	if len(vs) == 0 {
		return nil, label, fmt.Errorf("viz: %s: group %q has no values (%d given, %d NaN, %d Inf)", fn, g.Name, len(g.Values), nan, inf)
	}
	return vs, label, nil
}

// MetricBoxes returns a PNG of widthPx×heightPx pixels with one box plot per
// group (median, quartiles, whiskers at 1.5 IQR, outliers as points), the
// groups labelled with their counts along the x axis and ylabel on the y axis.
// It returns an error if there are no groups or a group has no finite value.
func MetricBoxes(title, ylabel string, groups []Group, widthPx, heightPx int) ([]byte, error) {
	const fn = "MetricBoxes"
	if len(groups) == 0 {
		return nil, fmt.Errorf("viz: %s: no groups", fn)
	}
	vals := make([]plotter.Values, len(groups))
	labels := make([]string, len(groups))
	for i, g := range groups {
		var err error
		if vals[i], labels[i], err = g.clean(fn); err != nil {
			return nil, err
		}
	}
	boxW := px(math.Min(60, 0.5*float64(widthPx-80)/float64(len(groups))))
	return renderPlot(fn, widthPx, heightPx, func(dc draw.Canvas) {
		p := plot.New()
		p.Title.Text = title
		p.Y.Label.Text = ylabel
		for i, vs := range vals {
			b, err := plotter.NewBoxPlot(boxW, float64(i), vs)
			if err != nil {
				panic(err)
			}
			b.FillColor = plotutil.Color(i)
			p.Add(b)
		}
		p.NominalX(labels...)
		p.Add(plotter.NewGrid())
		pad := 0.05 * (p.Y.Max - p.Y.Min) // keep the whisker caps off the title and axis
		p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad
		p.Draw(dc)
	})
}

// MetricHistogram returns a PNG of widthPx×heightPx pixels with the histograms
// of the groups overlaid in translucent colours, on common bins (bins < 1
// means 20) spanning all values, with a legend of the group labels. It returns
// an error if there are no groups or a group has no finite value.
func MetricHistogram(title string, groups []Group, bins int, widthPx, heightPx int) ([]byte, error) {
	const fn = "MetricHistogram"
	if len(groups) == 0 {
		return nil, fmt.Errorf("viz: %s: no groups", fn)
	}
	if bins < 1 {
		bins = 20
	}
	vals := make([]plotter.Values, len(groups))
	labels := make([]string, len(groups))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, g := range groups {
		var err error
		if vals[i], labels[i], err = g.clean(fn); err != nil {
			return nil, err
		}
		for _, v := range vals[i] {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)
	return renderPlot(fn, widthPx, heightPx, func(dc draw.Canvas) {
		p := plot.New()
		p.Title.Text = title
		p.Y.Label.Text = "count"
		for i, vs := range vals {
			h, err := plotter.NewHist(vs, bins)
			if err != nil {
				panic(err)
			}
			h.Bins = commonBins(vs, lo, width, bins)
			h.Width = width
			c := color.NRGBAModel.Convert(plotutil.Color(i)).(color.NRGBA)
			c.A = 0x90
			h.FillColor = c
			h.LineStyle.Color = plotutil.Color(i)
			p.Add(h)
			p.Legend.Add(labels[i], h)
		}
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		// Headroom for the legend, one line per group, above the tallest bar.
		p.Y.Min, p.Y.Max = 0, math.Ceil(p.Y.Max*(1.15+0.18*float64(len(vals))))
		p.Draw(dc)
	})
}

// commonBins counts vs into bins of the given width starting at lo (the last
// bin holds the maximum).
func commonBins(vs plotter.Values, lo, width float64, bins int) []plotter.HistogramBin {
	out := make([]plotter.HistogramBin, bins)
	for i := range out {
		out[i].Min = lo + float64(i)*width
		out[i].Max = lo + float64(i+1)*width
	}
	for _, v := range vs {
		i := min(max(int((v-lo)/width), 0), bins-1)
		out[i].Weight++
	}
	return out
}
