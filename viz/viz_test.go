package viz

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

var (
	update  = flag.Bool("update", false, "rewrite the golden images in testdata/")
	preview = flag.String("preview", "", "also write every figure and plot as PNG into this folder")
)

const size = 32

// phantom returns a size×size four-channel image: a left-to-right gradient in
// [-1, 1] with a bright disc whose radius grows with the channel, and a dark
// disc (the "tumour") at (cx, cy) of radius r when r > 0.
func phantom(cx, cy, r float64) Image {
	pix := make([]float32, size*size*4)
	for y := range size {
		for x := range size {
			for c := range 4 {
				v := -1 + 2*float64(x)/float64(size-1)
				if math.Hypot(float64(x)-15.5, float64(y)-15.5) < 6+2*float64(c) {
					v = 0.3 + 0.2*float64(c)
				}
				if r > 0 && math.Hypot(float64(x)-cx, float64(y)-cy) < r {
					v = -0.8 + 0.5*float64(c)
				}
				pix[(y*size+x)*4+c] = float32(v)
			}
		}
	}
	return MustImage(size, size, 4, pix)
}

// softDisc is a labelmap: 1 inside radius r of (cx, cy), falling linearly to
// 0 over 3 pixels.
func softDisc(cx, cy, r float64) []float32 {
	p := make([]float32, size*size)
	for y := range size {
		for x := range size {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			p[y*size+x] = float32(min(max((r+3-d)/3, 0), 1))
		}
	}
	return p
}

// square is a binary mask, 1 on rows and columns [lo, hi).
func square(lo, hi int) []float32 {
	p := make([]float32, size*size)
	for y := lo; y < hi; y++ {
		for x := lo; x < hi; x++ {
			p[y*size+x] = 1
		}
	}
	return p
}

func labelImage(p []float32) Image { return MustImage(size, size, 1, p) }

// golden compares img pixel-exactly with testdata/name.png, or rewrites it with
// -update.
func golden(t *testing.T, name string, img image.Image) {
	t.Helper()
	writePreview(t, name, img)
	path := filepath.Join("testdata", name+".png")
	if *update {
		if err := WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./viz -update to create the golden images)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != want.Bounds() {
		t.Fatalf("%s: bounds %v, golden %v", name, img.Bounds(), want.Bounds())
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.NRGBAModel.Convert(img.At(x, y))
			w := color.NRGBAModel.Convert(want.At(x, y))
			if g != w {
				t.Fatalf("%s: pixel (%d, %d) is %v, golden %v (run with -update if the change is intended)", name, x, y, g, w)
			}
		}
	}
}

func writePreview(t *testing.T, name string, img image.Image) {
	t.Helper()
	if *preview == "" {
		return
	}
	if err := os.MkdirAll(*preview, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WritePNG(filepath.Join(*preview, name+".png"), img); err != nil {
		t.Fatal(err)
	}
}

func writePreviewPNG(t *testing.T, name string, b []byte) {
	t.Helper()
	if *preview == "" {
		return
	}
	if err := os.MkdirAll(*preview, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*preview, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// decode decodes PNG bytes and checks the size (h < 0: any height).
func decode(t *testing.T, b []byte, w, h int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if img.Bounds().Dx() != w || (h >= 0 && img.Bounds().Dy() != h) {
		t.Fatalf("PNG is %v, want %d×%d", img.Bounds().Size(), w, h)
	}
	return img
}

func rgba(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

func TestNewImage(t *testing.T) {
	for i, c := range []struct {
		h, w, ch, n int
		ok          bool
	}{
		{2, 3, 4, 24, true},
		{2, 3, 4, 23, false}, // one value short
		{0, 3, 1, 0, false},  // empty
		{2, 2, -1, 0, false},
	} {
		_, err := NewImage(c.h, c.w, c.ch, make([]float32, c.n))
		if (err == nil) != c.ok {
			t.Errorf("case %d: NewImage(%d, %d, %d, %d values) error %v, want ok=%v", i, c.h, c.w, c.ch, c.n, err, c.ok)
		}
	}
}

func TestChannel(t *testing.T) {
	im := MustImage(1, 2, 3, []float32{1, 2, 3, 4, 5, 6})
	got := im.Channel(1)
	if got.C != 1 || got.Pix[0] != 2 || got.Pix[1] != 5 {
		t.Errorf("Channel(1) = %+v, want C=1 Pix [2 5]", got)
	}
}

func TestGray(t *testing.T) {
	// Expected levels by hand: 255·(v+1)/2, rounded, clipped.
	im := MustImage(1, 7, 1, []float32{-1, 1, 0, -3, 5, float32(math.NaN()), 0.5})
	g := Gray(im, 0, -1, 1)
	want := []uint8{0, 255, 128, 0, 255, 0, 191}
	for i, w := range want {
		if g.Pix[i] != w {
			t.Errorf("pixel %d (v=%g): %d, want %d", i, im.Pix[i], g.Pix[i], w)
		}
	}
}

func TestViridis(t *testing.T) {
	if c := Viridis(0); c != viridisStops[0] {
		t.Errorf("Viridis(0) = %v", c)
	}
	if c := Viridis(1); c != viridisStops[len(viridisStops)-1] {
		t.Errorf("Viridis(1) = %v", c)
	}
	if Viridis(-2) != Viridis(0) || Viridis(7) != Viridis(1) {
		t.Error("Viridis does not clip")
	}
	// Luminance must increase monotonically (perceptual map).
	prev := -1.0
	for i := range 101 {
		c := Viridis(float64(i) / 100)
		l := 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)
		if l < prev-0.5 {
			t.Fatalf("luminance falls at t=%.2f: %.1f < %.1f", float64(i)/100, l, prev)
		}
		prev = l
	}
}

func TestChannelsGolden(t *testing.T) {
	img := Channels(phantom(22, 10, 5), nil, 2)
	golden(t, "channels", img)
	// Custom names and a three-channel image.
	im := phantom(20, 12, 6)
	three := MustImage(size, size, 3, make([]float32, size*size*3))
	for i := range size * size {
		copy(three.Pix[3*i:3*i+3], im.Pix[4*i:4*i+3])
	}
	golden(t, "channels3", Channels(three, []string{"a", "b"}, 1))
}

func TestHeatmapGolden(t *testing.T) {
	img := Heatmap(labelImage(softDisc(20, 12, 6)), 2)
	if img.Bounds().Dx() != 2*size || img.Bounds().Dy() != 2*size {
		t.Fatalf("Heatmap bounds %v", img.Bounds())
	}
	if got := rgba(img, 40, 24); got != Viridis(1) {
		t.Errorf("centre of the disc %v, want Viridis(1) %v", got, Viridis(1))
	}
	if got := rgba(img, 0, 63); got != Viridis(0) {
		t.Errorf("corner %v, want Viridis(0) %v", got, Viridis(0))
	}
	golden(t, "heatmap", img)
}

func TestContours(t *testing.T) {
	red := color.RGBA{255, 0, 0, 255}
	base := phantom(0, 0, 0)
	// Square [8, 20): boundary pixels are those with y or x in {8, 19}.
	img := Contours(base, 0, 1, Outline{Mask: square(8, 20), Color: red})
	if img.Bounds().Dx() != size || img.Bounds().Dy() != size {
		t.Fatalf("no legend expected without names: bounds %v", img.Bounds())
	}
	for y := range size {
		for x := range size {
			inSq := y >= 8 && y < 20 && x >= 8 && x < 20
			edge := inSq && (y == 8 || y == 19 || x == 8 || x == 19)
			got := rgba(img, x, y) == red
			if got != edge {
				t.Fatalf("pixel (%d, %d): red=%v, want %v (edge of the square)", x, y, got, edge)
			}
		}
	}
	// Scale 3: the line stays one output pixel thick, on the outer pixels.
	img3 := Contours(base, 0, 3, Outline{Mask: square(8, 20), Color: red})
	for _, c := range []struct {
		x, y int
		red  bool
	}{{24, 30, true}, {25, 30, false}, {24, 59, true}, {59, 59, true}, {58, 58, false}, {23, 30, false}, {60, 30, false}} {
		if got := rgba(img3, c.x, c.y) == red; got != c.red {
			t.Errorf("scale 3, pixel (%d, %d): red=%v, want %v", c.x, c.y, got, c.red)
		}
	}
	// Threshold: a labelmap at 0.5 outlines only where it exceeds 0.5.
	lm := square(8, 20)
	for i := range lm {
		lm[i] *= 0.4
	}
	empty := Contours(base, 0, 1, Outline{Mask: lm, Threshold: 0.5, Color: red})
	if rgba(empty, 8, 8) == red {
		t.Error("a labelmap of 0.4 is outlined at threshold 0.5")
	}
	golden(t, "contours", Contours(phantom(20, 12, 6), 0, 2,
		Outline{Mask: softDisc(20, 12, 5), Threshold: 0.5, Color: color.RGBA{255, 40, 40, 255}, Name: "truth"},
		Outline{Mask: softDisc(19, 13, 4), Threshold: 0.5, Color: color.RGBA{40, 220, 255, 255}, Name: "PathoGAN"},
	))
}

func TestContoursBadMask(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "mask 0 has 3 values") {
			t.Errorf("panic %v, want one naming mask 0's length", r)
		}
	}()
	Contours(phantom(0, 0, 0), 0, 1, Outline{Mask: make([]float32, 3)})
}

func figure2Sample(baseline bool) Figure2Sample {
	s := Figure2Sample{
		Input:      phantom(20, 12, 6),
		Inpainting: phantom(0, 0, 0),
		Translated: phantom(20, 12, 2),
		Truth:      square(8, 18),
		Labelmap:   softDisc(20, 12, 5),
		Name:       "synthetic phantom",
	}
	if baseline {
		s.Baseline = softDisc(21, 12, 4)
		s.BaselineName = "MDGRU"
	}
	return s
}

func TestFigure2(t *testing.T) {
	with := Figure2([]Figure2Sample{figure2Sample(true)}, 2)
	without := Figure2([]Figure2Sample{figure2Sample(false)}, 2)
	golden(t, "figure2", with)
	golden(t, "figure2_nobaseline", without)
	if with.Bounds() != without.Bounds() {
		// The baseline fills the third slot of the labelmap column, as in the
		// paper; the layout keeps its size.
		t.Errorf("bounds with baseline %v, without %v", with.Bounds(), without.Bounds())
	}
	// The baseline tile: the third labelmap slot holds viridis colours with a
	// baseline, background without. Find it from the layout: the slot is the
	// last 2*size rows of the third tile row, in the labelmap column, whose
	// right edge is where the difference lies.
	diff := 0
	b := with.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if rgba(with, x, y) != rgba(without, x, y) {
				diff++
				if rgba(without, x, y) != background {
					t.Fatalf("pixel (%d, %d) differs but is not background without a baseline", x, y)
				}
			}
		}
	}
	if diff < (2*size)*(2*size) {
		t.Errorf("only %d pixels differ with a baseline, want at least a %d×%d tile", diff, 2*size, 2*size)
	}
	two := Figure2([]Figure2Sample{figure2Sample(true), figure2Sample(false)}, 1)
	one := Figure2([]Figure2Sample{figure2Sample(true)}, 1)
	if two.Bounds().Dy() <= one.Bounds().Dy() || two.Bounds().Dx() != one.Bounds().Dx() {
		t.Errorf("two samples %v, one %v: want taller, same width", two.Bounds(), one.Bounds())
	}
	golden(t, "figure2_two", two)
}

func TestSampleGridGolden(t *testing.T) {
	samples := []Image{phantom(20, 12, 6), phantom(10, 20, 4), phantom(22, 22, 3)}
	lms := []Image{labelImage(softDisc(20, 12, 5)), labelImage(softDisc(10, 20, 3)), labelImage(softDisc(22, 22, 2))}
	golden(t, "samplegrid", SampleGrid(phantom(0, 0, 0), samples, lms, 0, 2, 2))
	golden(t, "samplegrid_nolabels", SampleGrid(phantom(0, 0, 0), samples, nil, 2, 0, 1))
}

func TestInterpolationStripGolden(t *testing.T) {
	var frames []Image
	for i := range 5 {
		frames = append(frames, phantom(20, 12, 1.5*float64(i)))
	}
	golden(t, "interpolation", InterpolationStrip(frames, 0, 2))
	for i, c := range []struct {
		t    float64
		want string
	}{{0, "0"}, {0.25, "0.25"}, {0.5, "0.5"}, {1.0 / 3, "0.33"}, {1, "1"}} {
		if got := shortFloat(c.t); got != c.want {
			t.Errorf("case %d: shortFloat(%g) = %q, want %q", i, c.t, got, c.want)
		}
	}
}

func TestHeatmapPlot(t *testing.T) {
	b, err := HeatmapPlot(labelImage(softDisc(20, 12, 6)), "labelmap l_B", 400)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 400, -1)
	writePreviewPNG(t, "heatmapplot", b)
	if _, err := HeatmapPlot(Image{H: 2, W: 2, C: 1}, "", 400); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed labelmap: error %v", err)
	}
	if _, err := HeatmapPlot(labelImage(softDisc(1, 1, 1)), "", 50); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("width 50: error %v", err)
	}
}

// lossCSV is a training history with NaN and empty cells.
func lossCSV(rows int) string {
	var sb strings.Builder
	sb.WriteString("step,lr,seconds,gan,cycle,kl,disc_a\n")
	for i := range rows {
		gan := fmt.Sprint(1 + 0.5*math.Sin(float64(i)/7) + 2/float64(i+1))
		if i%17 == 3 {
			gan = "NaN"
		}
		kl := ""
		if i%2 == 0 {
			kl = fmt.Sprint(0.1 * math.Exp(-float64(i)/40))
		}
		fmt.Fprintf(&sb, "%d,0.0002,%.3f,%s,%g,%s,%g\n", i*10, float64(i)*0.2, gan, 3*math.Exp(-float64(i)/30)+0.1*math.Cos(float64(i)), kl, 0.25+0.05*math.Sin(float64(i)))
	}
	return sb.String()
}

func TestTrainingCurves(t *testing.T) {
	b, err := TrainingCurves(strings.NewReader(lossCSV(120)), 640, 420)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 640, 420)
	writePreviewPNG(t, "trainingcurves", b)

	path := filepath.Join(t.TempDir(), "losses.csv")
	if err := os.WriteFile(path, []byte(lossCSV(10)), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err = TrainingCurvesFile(path, 300, 200)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 300, 200)
	if _, err := TrainingCurvesFile(filepath.Join(t.TempDir(), "none.csv"), 300, 200); err == nil {
		t.Error("missing file: no error")
	}

	for i, c := range []struct {
		csv, want string
	}{
		{"", "empty CSV"},
		{"lr,seconds,gan\n1,2,3\n", `lacks the column "step"`},
		{"step,lr,gan\n1,2,3\n", `lacks the column "seconds"`},
		{"step,lr,seconds\n1,2,3\n", "no loss columns"},
		{"step,lr,seconds,gan\n", "no data rows"},
		{"step,lr,seconds,gan\n1,2,3,abc\n", `line 2, column "gan": "abc" is not a number`},
		{"step,lr,seconds,gan\nx,2,3,1\n", `line 2: step "x"`},
		{"step,lr,seconds,gan\n1,2,3\n", "wrong number of fields"},
	} {
		_, err := TrainingCurves(strings.NewReader(c.csv), 300, 200)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want one containing %q", i, err, c.want)
		}
	}
	if _, err := TrainingCurves(strings.NewReader(lossCSV(5)), 0, 200); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Errorf("zero width: error %v", err)
	}
}

// TestStepTicks: a step axis that starts at step 1 or 450 is labelled at
// multiples of its tick spacing (1000, 2000, ...), not at 500, 2500, 4500
// as the default ticks of that range are.
func TestStepTicks(t *testing.T) {
	for _, r := range [][2]float64{{1, 4500}, {450, 4500}, {1, 9000}, {0, 700}, {30, 300}} {
		var labelled []float64
		for _, tk := range (stepTicks{}).Ticks(r[0], r[1]) {
			if tk.Value < r[0] || tk.Value > r[1] {
				t.Errorf("range %v: tick %g outside it", r, tk.Value)
			}
			if tk.Label != "" {
				labelled = append(labelled, tk.Value)
			}
		}
		if len(labelled) < 2 {
			t.Errorf("range %v: labelled ticks %v; want at least 2", r, labelled)
			continue
		}
		step := labelled[1] - labelled[0]
		for _, v := range labelled {
			if q := v / step; math.Abs(q-math.Round(q)) > 1e-9 {
				t.Errorf("range %v: labelled ticks %v are not multiples of their spacing %g", r, labelled, step)
				break
			}
		}
	}
}

func TestMovingAverage(t *testing.T) {
	xy := movingAverage(plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 3}, {X: 2, Y: 5}, {X: 3, Y: 7}}, 2)
	want := []float64{1, 2, 4, 6} // trailing means of 1, 2, 2, 2 points
	for i, w := range want {
		if xy[i].Y != w {
			t.Errorf("point %d: %g, want %g", i, xy[i].Y, w)
		}
	}
}

func metricGroups() []Group {
	a, b := make([]float64, 120), make([]float64, 80)
	for i := range a {
		a[i] = 0.7 + 0.25*math.Sin(float64(i)*1.7)
	}
	for i := range b {
		b[i] = 0.8 + 0.15*math.Cos(float64(i)*2.3)
	}
	a[5], a[9], a[11] = math.NaN(), math.NaN(), math.NaN()
	return []Group{{"PathoGAN", a}, {"MDGRU", b}}
}

func TestGroupLabel(t *testing.T) {
	_, label, err := metricGroups()[0].clean("test")
	if err != nil || label != "PathoGAN (n=117, 3 NaN)" {
		t.Errorf("label %q, error %v", label, err)
	}
}

func TestMetricBoxes(t *testing.T) {
	b, err := MetricBoxes("Dice per slice (test)", "Dice", metricGroups(), 480, 360)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 480, 360)
	writePreviewPNG(t, "metricboxes", b)
	if _, err := MetricBoxes("t", "y", nil, 480, 360); err == nil || !strings.Contains(err.Error(), "no groups") {
		t.Errorf("no groups: error %v", err)
	}
	bad := []Group{{"PathoGAN", []float64{0.5}}, {"empty", []float64{math.NaN()}}}
	if _, err := MetricBoxes("t", "y", bad, 480, 360); err == nil || !strings.Contains(err.Error(), `group "empty" has no values`) {
		t.Errorf("NaN-only group: error %v", err)
	}
}

func TestMetricHistogram(t *testing.T) {
	b, err := MetricHistogram("Dice per slice (test)", metricGroups(), 15, 480, 320)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, 480, 320)
	writePreviewPNG(t, "metrichistogram", b)
	// One value: the range is widened, no error.
	if _, err := MetricHistogram("one", []Group{{"x", []float64{1}}}, 0, 200, 150); err != nil {
		t.Error(err)
	}
	if _, err := MetricHistogram("t", []Group{{"none", nil}}, 10, 480, 320); err == nil || !strings.Contains(err.Error(), `group "none" has no values`) {
		t.Errorf("empty group: error %v", err)
	}
	bins := commonBins([]float64{0, 0.5, 1}, 0, 0.5, 2)
	if bins[0].Weight != 1 || bins[1].Weight != 2 {
		t.Errorf("commonBins: %+v, want weights 1 and 2 (the maximum in the last bin)", bins)
	}
}

func TestWritePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.png")
	img := Heatmap(labelImage(softDisc(5, 5, 3)), 1)
	if err := WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b, size, size)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files left in the folder, want 1 (no temporary file)", len(entries))
	}
	if err := WritePNG(filepath.Join(t.TempDir(), "no", "such", "dir.png"), img); err == nil {
		t.Error("writing into a missing folder: no error")
	}
}

// TestStrip: Strip with the t labels draws exactly InterpolationStrip, and
// without labels it leaves the captions out (a shorter image).
func TestStrip(t *testing.T) {
	var frames []Image
	for i := range 3 {
		pix := make([]float32, 8*8)
		for k := range pix {
			pix[k] = float32(i)/2 - 0.5 + float32(k%8)/16
		}
		frames = append(frames, MustImage(8, 8, 1, pix))
	}
	a := Strip(frames, []string{"t=0", "t=0.5", "t=1"}, 0, 2)
	b := InterpolationStrip(frames, 0, 2)
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v vs %v", a.Bounds(), b.Bounds())
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("pixel (%d, %d) differs", x, y)
			}
		}
	}
	if c := Strip(frames, nil, 0, 2); c.Bounds().Dy() >= a.Bounds().Dy() {
		t.Errorf("unlabelled strip %v is not shorter than the labelled one %v", c.Bounds(), a.Bounds())
	}
}
