package augment

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randImage returns an HWC image with values in [-1, 1], a few exact zeros
// and some awkward bit patterns (negative zero, subnormals).
func randImage(rng *rand.Rand, h, w, c int) []float32 {
	img := make([]float32, h*w*c)
	for i := range img {
		switch rng.IntN(20) {
		case 0:
			img[i] = 0
		case 1:
			img[i] = float32(math.Copysign(0, -1))
		case 2:
			img[i] = math.SmallestNonzeroFloat32 * float32(1+rng.IntN(5))
		default:
			img[i] = 2*rng.Float32() - 1
		}
	}
	return img
}

// blobLabel returns a BraTS-like label map: background 0 with nested
// discs of labels 2 (oedema), 1 (necrosis) and 4 (enhancing) around
// (cx, cy).
func blobLabel(h, w int, cx, cy, r float64) []uint8 {
	lab := make([]uint8, h*w)
	for y := range h {
		for x := range w {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			switch {
			case d < r/3:
				lab[y*w+x] = 1
			case d < 2*r/3:
				lab[y*w+x] = 4
			case d < r:
				lab[y*w+x] = 2
			}
		}
	}
	return lab
}

func bitsEqual(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, true
}

func labelSet(lab []uint8) map[uint8]bool {
	s := map[uint8]bool{}
	for _, v := range lab {
		s[v] = true
	}
	return s
}

func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig()
	want := Config{MirrorProb: 0.5, MaxAngle: 0.1, ScaleBase: 1.1, ScaleExpRange: 1,
		Elastic: true, ElasticSpacing: 128, ElasticStd: 5, ImageFill: 0, LabelFill: 0}
	if cfg != want {
		t.Fatalf("DefaultConfig() = %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Config)
		substr []string // must all appear in the error; nil means valid
	}{
		{"default", func(*Config) {}, nil},
		{"no elastic", func(c *Config) { c.Elastic = false }, nil},
		{"prob 0 and 1 ok", func(c *Config) { c.MirrorProb = 1 }, nil},
		{"zero std ok", func(c *Config) { c.ElasticStd = 0 }, nil},
		{"prob > 1", func(c *Config) { c.MirrorProb = 1.5 }, []string{"MirrorProb", "1.5"}},
		{"prob < 0", func(c *Config) { c.MirrorProb = -0.1 }, []string{"MirrorProb", "-0.1"}},
		{"prob NaN", func(c *Config) { c.MirrorProb = math.NaN() }, []string{"MirrorProb", "NaN"}},
		{"negative angle", func(c *Config) { c.MaxAngle = -0.1 }, []string{"MaxAngle", "-0.1"}},
		{"inf angle", func(c *Config) { c.MaxAngle = math.Inf(1) }, []string{"MaxAngle", "+Inf"}},
		{"zero scale base", func(c *Config) { c.ScaleBase = 0 }, []string{"ScaleBase", "0"}},
		{"negative exp range", func(c *Config) { c.ScaleExpRange = -1 }, []string{"ScaleExpRange", "-1"}},
		{"overflowing scale", func(c *Config) { c.ScaleBase = 10; c.ScaleExpRange = 400 }, []string{"ScaleBase", "400"}},
		{"zero spacing", func(c *Config) { c.ElasticSpacing = 0 }, []string{"ElasticSpacing", "0"}},
		{"negative spacing", func(c *Config) { c.ElasticSpacing = -128 }, []string{"ElasticSpacing", "-128"}},
		{"negative std", func(c *Config) { c.ElasticStd = -5 }, []string{"ElasticStd", "-5"}},
		{"NaN fill", func(c *Config) { c.ImageFill = float32(math.NaN()) }, []string{"ImageFill", "NaN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mod(&cfg)
			err := cfg.Validate()
			if tt.substr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error mentioning %q", tt.substr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			for _, s := range tt.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestGridLayout(t *testing.T) {
	tests := []struct{ h, w, s, nx, ny int }{
		{240, 240, 128, 5, 5},
		{155, 240, 128, 5, 5},
		{128, 129, 128, 5, 4}, // w-1 = 128 lands exactly on a knot
		{1, 1, 128, 4, 4},
		{10, 20, 3, 10, 7},
	}
	for _, tt := range tests {
		g := NewGrid(tt.h, tt.w, tt.s)
		if g.NX != tt.nx || g.NY != tt.ny || len(g.DX) != tt.nx*tt.ny || len(g.DY) != tt.nx*tt.ny {
			t.Errorf("NewGrid(%d,%d,%d) = %dx%d (len %d,%d), want %dx%d",
				tt.h, tt.w, tt.s, g.NX, g.NY, len(g.DX), len(g.DY), tt.nx, tt.ny)
		}
		// Every pixel needs one knot at or before the cell start minus S and
		// two after it: the points start at -S and end beyond w-1+S.
		x0, y0 := g.ControlPoint(0, 0)
		x1, y1 := g.ControlPoint(g.NX-1, g.NY-1)
		if x0 != -tt.s || y0 != -tt.s || x1 <= tt.w-1+tt.s || y1 <= tt.h-1+tt.s {
			t.Errorf("grid %dx%d s=%d spans (%d,%d)-(%d,%d), too small", tt.h, tt.w, tt.s, x0, y0, x1, y1)
		}
		if err := g.Validate(tt.h, tt.w); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}
}

func TestIdentityExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range []struct{ h, w, c int }{{240, 240, 4}, {7, 5, 1}, {1, 1, 3}, {155, 240, 4}} {
		img := randImage(rng, sz.h, sz.w, sz.c)
		img[0] = float32(math.NaN()) // even NaN must come through
		lab := blobLabel(sz.h, sz.w, float64(sz.w)/2, float64(sz.h)/2, float64(sz.w)/3)
		outImg, outLab, err := Apply(Identity(sz.h, sz.w), img, sz.h, sz.w, sz.c, lab)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := bitsEqual(outImg, img); !ok {
			t.Errorf("%v: image differs at %d: %v vs %v", sz, i, outImg[i], img[i])
		}
		if !slices.Equal(outLab, lab) {
			t.Errorf("%v: labels differ", sz)
		}
		if &outImg[0] == &img[0] {
			t.Errorf("Apply returned the input slice, want a copy")
		}
	}
}

// The general resampling loop (not only the copy fast path) must give exact
// integer positions for angle 0 / scale 1 / zero field, with and without
// mirroring.
func TestResampleExactAtIntegerPositions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range []struct{ h, w, c int }{{240, 240, 4}, {9, 6, 2}, {6, 9, 1}} {
		img := randImage(rng, sz.h, sz.w, sz.c)
		lab := blobLabel(sz.h, sz.w, 3, 2, 4)
		for _, mirror := range []bool{false, true} {
			p := Params{Mirror: mirror, Angle: 0, Scale: 1, Grid: NewGrid(sz.h, sz.w, 4)}
			out := make([]float32, len(img))
			outLab := make([]uint8, len(lab))
			resample(p, sz.h, sz.w, sz.c, img, out, lab, outLab)
			wantImg, wantLab := img, lab
			if mirror {
				wantImg, _ = Mirror(img, sz.h, sz.w, sz.c)
				wantLab, _ = Mirror(lab, sz.h, sz.w, 1)
			}
			if i, ok := bitsEqual(out, wantImg); !ok {
				t.Errorf("%v mirror=%v: image differs at %d", sz, mirror, i)
			}
			if !slices.Equal(outLab, wantLab) {
				t.Errorf("%v mirror=%v: labels differ", sz, mirror)
			}
		}
	}
}

func TestMirror(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sz := range []struct{ h, w, c int }{{4, 5, 1}, {4, 6, 1}, {3, 7, 4}, {240, 240, 4}, {1, 1, 2}} {
		img := randImage(rng, sz.h, sz.w, sz.c)
		once, err := Mirror(img, sz.h, sz.w, sz.c)
		if err != nil {
			t.Fatal(err)
		}
		for y := range sz.h {
			for x := range sz.w {
				for k := range sz.c {
					got := once[(y*sz.w+sz.w-1-x)*sz.c+k]
					want := img[(y*sz.w+x)*sz.c+k]
					if math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%v: pixel (%d,%d,%d) not moved to (%d,%d)", sz, x, y, k, sz.w-1-x, y)
					}
				}
			}
		}
		twice, _ := Mirror(once, sz.h, sz.w, sz.c)
		if i, ok := bitsEqual(twice, img); !ok {
			t.Errorf("%v: mirror twice differs at %d", sz, i)
		}

		// Apply with a mirror-only draw agrees with Mirror, twice is identity.
		lab := blobLabel(sz.h, sz.w, 1, 1, 3)
		p := Identity(sz.h, sz.w)
		p.Mirror = true
		a1, l1, err := Apply(p, img, sz.h, sz.w, sz.c, lab)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := bitsEqual(a1, once); !ok {
			t.Errorf("%v: Apply(mirror) differs from Mirror at %d", sz, i)
		}
		a2, l2, _ := Apply(p, a1, sz.h, sz.w, sz.c, l1)
		if i, ok := bitsEqual(a2, img); !ok {
			t.Errorf("%v: Apply(mirror) twice differs at %d", sz, i)
		}
		if !slices.Equal(l2, lab) {
			t.Errorf("%v: label mirror twice differs", sz)
		}
		if sz.w > 1 && slices.Equal(l1, lab) && !slices.Equal(once, img) {
			t.Errorf("%v: label not mirrored", sz)
		}
	}
}

func TestLabelsStayInLabelSet(t *testing.T) {
	const h, w, c = 96, 112, 2
	cfg := DefaultConfig()
	cfg.ElasticSpacing = 32 // stronger relative deformation on a small slice
	cfg.MaxAngle = 0.5
	tests := []struct {
		name string
		lab  []uint8
	}{
		{"brats 0,1,2,4", blobLabel(h, w, 50, 40, 35)},
		{"0,2 only", func() []uint8 {
			l := blobLabel(h, w, 50, 40, 35)
			for i, v := range l {
				if v != 0 {
					l[i] = 2
				}
			}
			return l
		}()},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	img := randImage(rng, h, w, c)
	for _, tt := range tests {
		in := labelSet(tt.lab)
		for seed := range uint64(20) {
			_, out, _, err := Augment(rand.New(rand.NewPCG(seed, 99)), cfg, img, h, w, c, tt.lab)
			if err != nil {
				t.Fatal(err)
			}
			got := labelSet(out)
			for v := range got {
				if !in[v] {
					t.Fatalf("%s seed %d: output label %d not in input set %v", tt.name, seed, v, in)
				}
			}
			if len(got) != len(in) {
				t.Errorf("%s seed %d: output label set %v, want all of %v to survive", tt.name, seed, got, in)
			}
		}
	}
}

// centroid returns the intensity-weighted centroid of channel k.
func centroid(img []float32, h, w, c, k int) (float64, float64) {
	var sx, sy, s float64
	for y := range h {
		for x := range w {
			v := float64(img[(y*w+x)*c+k])
			sx += v * float64(x)
			sy += v * float64(y)
			s += v
		}
	}
	return sx / s, sy / s
}

// gaussianSpot renders a bright blob at (px, py) in every channel (channel
// k scaled by k+1).
func gaussianSpot(h, w, c int, px, py, sigma float64) []float32 {
	img := make([]float32, h*w*c)
	for y := range h {
		for x := range w {
			d2 := (float64(x)-px)*(float64(x)-px) + (float64(y)-py)*(float64(y)-py)
			v := math.Exp(-d2 / (2 * sigma * sigma))
			if v < 1e-6 {
				continue
			}
			for k := range c {
				img[(y*w+x)*c+k] = float32(v) / float32(k+1)
			}
		}
	}
	return img
}

func TestRotationMovesPoint(t *testing.T) {
	const h, w, c = 120, 140, 3
	cx, cy := float64(w-1)/2, float64(h-1)/2
	tests := []struct{ angle, qx, qy float64 }{
		{0.1, 110, 60},
		{-0.1, 110, 60},
		{0.05, 30, 20},
		{-0.07, 70, 100},
		{0.3, 100, 90},
	}
	for _, tt := range tests {
		img := gaussianSpot(h, w, c, tt.qx, tt.qy, 1.5)
		out, err := Rotate(img, h, w, c, tt.angle, 0)
		if err != nil {
			t.Fatal(err)
		}
		sin, cos := math.Sincos(tt.angle)
		ex := cx + cos*(tt.qx-cx) - sin*(tt.qy-cy)
		ey := cy + sin*(tt.qx-cx) + cos*(tt.qy-cy)
		// The point must actually move (so the test has teeth).
		if math.Hypot(ex-tt.qx, ey-tt.qy) < 2 {
			t.Fatalf("test case too weak: expected shift < 2 px")
		}
		for k := range c {
			gx, gy := centroid(out, h, w, c, k)
			if math.Hypot(gx-ex, gy-ey) > 1 {
				t.Errorf("angle %v: point (%v,%v) ch %d went to (%.2f,%.2f), want (%.2f,%.2f)",
					tt.angle, tt.qx, tt.qy, k, gx, gy, ex, ey)
			}
		}
	}
}

func TestScaleEnlargesArea(t *testing.T) {
	const h, w, c, side = 200, 200, 1, 60
	img := make([]float32, h*w*c)
	lab := make([]uint8, h*w)
	lo := (w - side) / 2
	for y := lo; y < lo+side; y++ {
		for x := lo; x < lo+side; x++ {
			img[y*w+x] = 1
			lab[y*w+x] = 4
		}
	}
	for _, s := range []float64{1.1, 1 / 1.1, 1.21, 1.5} {
		p := Params{Scale: s}
		out, outLab, err := Apply(p, img, h, w, c, lab)
		if err != nil {
			t.Fatal(err)
		}
		var mass float64
		var nlab int
		for i := range out {
			mass += float64(out[i])
			if outLab[i] == 4 {
				nlab++
			}
		}
		want := s * s * side * side
		if math.Abs(mass-want)/want > 0.03 {
			t.Errorf("scale %v: image area %.0f, want %.0f (s²·%d)", s, mass, want, side*side)
		}
		if math.Abs(float64(nlab)-want)/want > 0.05 {
			t.Errorf("scale %v: label area %d, want %.0f", s, nlab, want)
		}
		// Scale() is the same transform.
		out2, _ := Scale(img, h, w, c, s, 0)
		if i, ok := bitsEqual(out, out2); !ok {
			t.Errorf("Scale() differs from Apply at %d", i)
		}
	}
}

func TestElasticZeroStd(t *testing.T) {
	const h, w, c = 64, 80, 2
	cfg := Config{MirrorProb: 0, ScaleBase: 1.1, Elastic: true, ElasticSpacing: 16, ElasticStd: 0}
	p := Sample(rand.New(rand.NewPCG(1, 1)), cfg, h, w)
	if p.Grid.NX == 0 {
		t.Fatalf("elastic enabled but empty grid")
	}
	dx, dy, err := DisplacementField(p.Grid, h, w)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dx {
		if dx[i] != 0 || dy[i] != 0 {
			t.Fatalf("std 0: displacement (%v,%v) at %d, want 0", dx[i], dy[i], i)
		}
	}
	img := randImage(rand.New(rand.NewPCG(2, 2)), h, w, c)
	out, err := ApplyImage(p, img, h, w, c)
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := bitsEqual(out, img); !ok {
		t.Errorf("zero-std draw changed the image at %d", i)
	}
}

func TestElasticFieldSmoothAndInterpolating(t *testing.T) {
	const h, w = 240, 240
	cfg := DefaultConfig()
	var worst, sumDiff float64
	var n int
	for seed := range uint64(20) {
		g := SampleGrid(rand.New(rand.NewPCG(seed, 5)), h, w, cfg.ElasticSpacing, cfg.ElasticStd)
		dx, dy, err := DisplacementField(g, h, w)
		if err != nil {
			t.Fatal(err)
		}
		if g.IsZero() {
			t.Fatal("random grid is zero")
		}
		for y := range h {
			for x := range w {
				i := y*w + x
				for _, j := range []int{i + 1, i + w} {
					if (j == i+1 && x == w-1) || (j == i+w && y == h-1) {
						continue
					}
					d := math.Max(math.Abs(dx[j]-dx[i]), math.Abs(dy[j]-dy[i]))
					worst = math.Max(worst, d)
					sumDiff += d
					n++
				}
			}
		}
		// Interpolation: at control points inside the slice the field
		// equals the drawn displacement exactly.
		for j := range g.NY {
			for i := range g.NX {
				x, y := g.ControlPoint(i, j)
				if x < 0 || y < 0 || x >= w || y >= h {
					continue
				}
				k := j*g.NX + i
				if dx[y*w+x] != g.DX[k] || dy[y*w+x] != g.DY[k] {
					t.Errorf("seed %d: field at control point (%d,%d) = (%v,%v), want (%v,%v)",
						seed, x, y, dx[y*w+x], dy[y*w+x], g.DX[k], g.DY[k])
				}
			}
		}
	}
	t.Logf("neighbour displacement difference: max %.3f px, mean %.4f px", worst, sumDiff/float64(n))
	if worst > 0.5 {
		t.Errorf("max neighbour displacement difference %.3f px, want << 1 px", worst)
	}
	if mean := sumDiff / float64(n); mean > 0.1 {
		t.Errorf("mean neighbour displacement difference %.3f px, want << 1 px", mean)
	}
}

func TestElasticControlPointStd(t *testing.T) {
	const h, w, draws = 240, 240, 400
	cfg := DefaultConfig()
	rng := rand.New(rand.NewPCG(11, 12))
	var sx, sxx, sy, syy float64
	var n int
	for range draws {
		p := Sample(rng, cfg, h, w)
		for k := range p.Grid.DX {
			sx += p.Grid.DX[k]
			sxx += p.Grid.DX[k] * p.Grid.DX[k]
			sy += p.Grid.DY[k]
			syy += p.Grid.DY[k] * p.Grid.DY[k]
			n++
		}
	}
	fn := float64(n)
	for _, c := range []struct {
		name    string
		s, ss   float64
		wantStd float64
	}{{"dx", sx, sxx, 5}, {"dy", sy, syy, 5}} {
		mean := c.s / fn
		std := math.Sqrt(c.ss/fn - mean*mean)
		// n = 10000 samples: standard error of std ≈ 5/sqrt(2n) ≈ 0.035.
		if math.Abs(std-c.wantStd) > 0.2 || math.Abs(mean) > 0.2 {
			t.Errorf("%s: mean %.3f std %.3f over %d control points, want 0 and %v", c.name, mean, std, n, c.wantStd)
		}
	}
}

// A constant grid shifts the sampling position: out(x, y) = in(x+dx, y+dy).
func TestDeformConstantShift(t *testing.T) {
	const h, w, c = 50, 60, 2
	img := make([]float32, h*w*c)
	for y := range h {
		for x := range w {
			img[(y*w+x)*c] = float32(x) / 100
			img[(y*w+x)*c+1] = float32(y) / 100
		}
	}
	g := NewGrid(h, w, 16)
	for k := range g.DX {
		g.DX[k], g.DY[k] = 3.25, -2.5
	}
	out, err := Deform(img, h, w, c, g, 0)
	if err != nil {
		t.Fatal(err)
	}
	for y := 5; y < h-5; y++ {
		for x := 5; x < w-5; x++ {
			gx := float64(out[(y*w+x)*c]) * 100
			gy := float64(out[(y*w+x)*c+1]) * 100
			if math.Abs(gx-(float64(x)+3.25)) > 1e-3 || math.Abs(gy-(float64(y)-2.5)) > 1e-3 {
				t.Fatalf("(%d,%d) sampled (%.4f,%.4f), want (%.2f,%.2f)", x, y, gx, gy, float64(x)+3.25, float64(y)-2.5)
			}
		}
	}
}

func TestSampleRanges(t *testing.T) {
	cfg := DefaultConfig()
	rng := rand.New(rand.NewPCG(21, 22))
	const n = 4000
	var mirrors int
	minA, maxA, minS, maxS := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for range n {
		p := Sample(rng, cfg, 240, 240)
		if p.Mirror {
			mirrors++
		}
		minA, maxA = math.Min(minA, p.Angle), math.Max(maxA, p.Angle)
		minS, maxS = math.Min(minS, p.Scale), math.Max(maxS, p.Scale)
		if p.Grid.NX != 5 || p.Grid.NY != 5 || p.Grid.Spacing != 128 {
			t.Fatalf("grid %dx%d spacing %d, want 5x5 spacing 128", p.Grid.NX, p.Grid.NY, p.Grid.Spacing)
		}
	}
	if f := float64(mirrors) / n; math.Abs(f-0.5) > 0.04 {
		t.Errorf("mirror frequency %.3f, want 0.5", f)
	}
	if minA < -0.1 || maxA > 0.1 || minA > -0.099 || maxA < 0.099 {
		t.Errorf("angle range [%v, %v], want to fill [-0.1, 0.1]", minA, maxA)
	}
	if minS < 1/1.1-1e-12 || maxS > 1.1+1e-12 || minS > 1/1.1+0.002 || maxS < 1.1-0.002 {
		t.Errorf("scale range [%v, %v], want to fill [1/1.1, 1.1]", minS, maxS)
	}
	cfg.Elastic = false
	if p := Sample(rng, cfg, 240, 240); p.Grid.NX != 0 || !p.Grid.IsZero() {
		t.Errorf("elastic disabled: got grid %dx%d", p.Grid.NX, p.Grid.NY)
	}
}

func TestDeterminism(t *testing.T) {
	const h, w, c = 64, 64, 4
	cfg := DefaultConfig()
	cfg.ElasticSpacing = 32
	img := randImage(rand.New(rand.NewPCG(0, 0)), h, w, c)
	lab := blobLabel(h, w, 30, 34, 20)
	run := func(seed uint64) ([]float32, []uint8, Params) {
		o, l, p, err := Augment(rand.New(rand.NewPCG(seed, 1)), cfg, img, h, w, c, lab)
		if err != nil {
			t.Fatal(err)
		}
		return o, l, p
	}
	o1, l1, p1 := run(42)
	o2, l2, p2 := run(42)
	if i, ok := bitsEqual(o1, o2); !ok {
		t.Errorf("same seed: images differ at %d", i)
	}
	if !slices.Equal(l1, l2) || p1.Angle != p2.Angle || p1.Scale != p2.Scale || !slices.Equal(p1.Grid.DX, p2.Grid.DX) {
		t.Errorf("same seed: labels or params differ")
	}
	o3, _, p3 := run(43)
	if _, ok := bitsEqual(o1, o3); ok {
		t.Errorf("different seed gave identical image")
	}
	if p1.Angle == p3.Angle {
		t.Errorf("different seed gave identical angle")
	}
	// Replaying the returned draw reproduces the augmentation.
	o4, l4, err := Apply(p1, img, h, w, c, lab)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bitsEqual(o1, o4); !ok || !slices.Equal(l1, l4) {
		t.Errorf("Apply(returned params) does not reproduce Augment")
	}
}

func TestErrors(t *testing.T) {
	const h, w, c = 8, 10, 4
	img := make([]float32, h*w*c)
	lab := make([]uint8, h*w)
	good := Identity(h, w)
	badGrid := good
	badGrid.Grid = NewGrid(h+200, w, 128)
	tests := []struct {
		name   string
		call   func() error
		target error
		substr []string
	}{
		{"short img", func() error { _, _, err := Apply(good, img[1:], h, w, c, lab); return err },
			ErrShape, []string{"len(img) = 319", "320"}},
		{"long label", func() error { _, _, err := Apply(good, img, h, w, c, append(lab, 0)); return err },
			ErrShape, []string{"len(label) = 81", "80"}},
		{"empty non-nil label", func() error { _, _, err := Apply(good, img, h, w, c, []uint8{}); return err },
			ErrShape, []string{"len(label) = 0", "80"}},
		{"wrong c", func() error { _, _, err := Apply(good, img, h, w, 3, lab); return err },
			ErrShape, []string{"len(img) = 320", "240"}},
		{"zero h", func() error { _, _, err := Apply(good, nil, 0, w, c, nil); return err },
			ErrShape, []string{"h=0"}},
		{"overflow", func() error { _, _, err := Apply(good, img, math.MaxInt/2, 4, 1, nil); return err },
			ErrShape, []string{"overflow"}},
		{"zero scale", func() error { _, _, err := Apply(Params{}, img, h, w, c, lab); return err },
			ErrInvalid, []string{"Scale", "0"}},
		{"NaN angle", func() error {
			_, _, err := Apply(Params{Scale: 1, Angle: math.NaN()}, img, h, w, c, lab)
			return err
		}, ErrInvalid, []string{"Angle", "NaN"}},
		{"grid size", func() error { _, _, err := Apply(badGrid, img, h, w, c, lab); return err },
			ErrShape, []string{"Grid"}},
		{"label only", func() error { _, err := ApplyLabel(good, lab[:5], h, w); return err },
			ErrShape, []string{"len(label) = 5"}},
		{"mirror", func() error { _, err := Mirror(img, h, w, 3); return err },
			ErrShape, []string{"len(data) = 320", "240"}},
		{"rotate", func() error { _, err := Rotate(img[:3], h, w, c, 0.1, 0); return err },
			ErrShape, []string{"len(img) = 3"}},
		{"augment nil rng", func() error { _, _, _, err := Augment(nil, DefaultConfig(), img, h, w, c, lab); return err },
			ErrInvalid, []string{"rand"}},
		{"augment bad cfg", func() error {
			cfg := DefaultConfig()
			cfg.ElasticStd = -1
			_, _, _, err := Augment(rand.New(rand.NewPCG(1, 1)), cfg, img, h, w, c, lab)
			return err
		}, ErrInvalid, []string{"ElasticStd", "-1"}},
		{"augment bad img", func() error {
			_, _, _, err := Augment(rand.New(rand.NewPCG(1, 1)), DefaultConfig(), img[:7], h, w, c, lab)
			return err
		}, ErrShape, []string{"len(img) = 7", "320"}},
		{"field bad grid", func() error { _, _, err := DisplacementField(badGrid.Grid, h, w); return err },
			ErrShape, []string{"Grid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("got nil error")
			}
			if !errors.Is(err, tt.target) {
				t.Errorf("error %v does not wrap %v", err, tt.target)
			}
			for _, s := range tt.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	// Nil label is allowed and gives a nil output label.
	if _, l, err := Apply(good, img, h, w, c, nil); err != nil || l != nil {
		t.Errorf("nil label: got %v, %v; want nil, nil", l, err)
	}
}

func TestSamplePanicsOnProgrammerMistakes(t *testing.T) {
	bad := DefaultConfig()
	bad.MirrorProb = 2
	tests := []struct {
		name string
		f    func()
	}{
		{"nil rng", func() { Sample(nil, DefaultConfig(), 10, 10) }},
		{"bad cfg", func() { Sample(rand.New(rand.NewPCG(1, 1)), bad, 10, 10) }},
		{"zero size", func() { Sample(rand.New(rand.NewPCG(1, 1)), DefaultConfig(), 0, 10) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, ok := r.(string)
				if !ok || !strings.HasPrefix(s, "augment:") {
					t.Errorf("panic value %v, want a string starting with \"augment:\"", r)
				}
			}()
			tt.f()
		})
	}
}

// Extreme but valid parameters must not panic and must fill outside.
func TestExtremeParamsNoPanic(t *testing.T) {
	const h, w, c = 16, 16, 1
	img := make([]float32, h*w*c)
	for i := range img {
		img[i] = 1
	}
	lab := make([]uint8, h*w)
	for i := range lab {
		lab[i] = 2
	}
	g := NewGrid(h, w, 4)
	for k := range g.DX {
		g.DX[k] = 1e300
	}
	for _, p := range []Params{
		{Scale: 1e-300, ImageFill: -1, LabelFill: 7},
		{Scale: 1, Grid: g, ImageFill: -1, LabelFill: 7},
	} {
		out, outLab, err := Apply(p, img, h, w, c, lab)
		if err != nil {
			t.Fatal(err)
		}
		var fills int
		for i := range out {
			if math.IsNaN(float64(out[i])) {
				t.Fatalf("NaN output for %+v", p.Scale)
			}
			if out[i] == -1 && outLab[i] == 7 {
				fills++
			}
		}
		if fills == 0 {
			t.Errorf("scale %v: expected fill values outside the slice", p.Scale)
		}
	}
	// A huge zoom samples the centre everywhere.
	out, outLab, err := Apply(Params{Scale: 1e300, ImageFill: -1, LabelFill: 7}, img, h, w, c, lab)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if out[i] != 1 || outLab[i] != 2 {
			t.Fatalf("scale 1e300: pixel %d = %v/%d, want the centre value 1/2", i, out[i], outLab[i])
		}
	}
}

func BenchmarkApply(b *testing.B) {
	const h, w, c = 240, 240, 4
	rng := rand.New(rand.NewPCG(1, 2))
	img := randImage(rng, h, w, c)
	lab := blobLabel(h, w, 120, 110, 50)
	cfg := DefaultConfig()
	cfg.MirrorProb = 1
	p := Sample(rng, cfg, h, w)
	b.ReportAllocs()
	b.SetBytes(int64(len(img) * 4))
	for b.Loop() {
		if _, _, err := Apply(p, img, h, w, c, lab); err != nil {
			b.Fatal(err)
		}
	}
}
