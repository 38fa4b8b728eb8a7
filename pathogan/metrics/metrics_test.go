package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// rect returns an h×w mask with the rectangle rows y0..y1, columns x0..x1
// (inclusive) set.
func rect(h, w, y0, y1, x0, x1 int) []uint8 {
	m := make([]uint8, h*w)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			m[y*w+x] = 1
		}
	}
	return m
}

// pixels returns an h×w mask with the given (y, x) pixels set.
func pixels(h, w int, yx ...int) []uint8 {
	m := make([]uint8, h*w)
	for i := 0; i < len(yx); i += 2 {
		m[yx[i]*w+yx[i+1]] = 1
	}
	return m
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) < 1e-9
}

func TestBoundary(t *testing.T) {
	// A full 3×3 image: every pixel touching the image edge is boundary,
	// only the centre (all 4 neighbours foreground) is interior.
	b, err := Boundary([]uint8{1, 1, 1, 1, 1, 1, 1, 1, 1}, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{1, 1, 1, 1, 0, 1, 1, 1, 1}
	for i := range want {
		if b[i] != want[i] {
			t.Fatalf("full 3x3: %v, want %v", b, want)
		}
	}
	// A plus shape in 5×5: the centre has 4 foreground neighbours (interior),
	// the 4 arms do not (boundary); diagonal neighbours do not matter.
	plus := pixels(5, 5, 2, 2, 1, 2, 3, 2, 2, 1, 2, 3)
	b, _ = Boundary(plus, 5, 5)
	if b[2*5+2] != 0 || b[1*5+2] != 1 || b[2*5+1] != 1 || b[0] != 0 {
		t.Fatalf("plus: %v", b)
	}
	if _, err := Boundary(make([]uint8, 5), 2, 3); err == nil {
		t.Error("5 pixels for 2x3: want error")
	}
}

// TestDistanceTransformBrute compares with the brute-force minimum over all
// sites on random masks of random sizes and densities.
func TestDistanceTransformBrute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		h, w := 1+rng.IntN(17), 1+rng.IntN(17)
		p := []float64{0, 0.01, 0.05, 0.3, 0.9}[trial%5]
		set := make([]uint8, h*w)
		for i := range set {
			if rng.Float64() < p {
				set[i] = uint8(1 + rng.IntN(255))
			}
		}
		d, err := DistanceTransform(set, h, w)
		if err != nil {
			t.Fatal(err)
		}
		for y := range h {
			for x := range w {
				best := math.Inf(1)
				for sy := range h {
					for sx := range w {
						if set[sy*w+sx] != 0 {
							best = min(best, math.Hypot(float64(y-sy), float64(x-sx)))
						}
					}
				}
				if got := d[y*w+x]; !(got == best || math.Abs(got-best) < 1e-12) {
					t.Fatalf("trial %d (%dx%d): D(%d,%d) = %v, brute force %v", trial, h, w, y, x, got, best)
				}
			}
		}
	}
}

// TestSurfaceDistancesBrute checks the bounding-box restricted directed
// distances against brute force on random blobs.
func TestSurfaceDistancesBrute(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var c Calculator
	for trial := range 200 {
		h, w := 2+rng.IntN(20), 2+rng.IntN(20)
		a := rect(h, w, rng.IntN(h), h-1-rng.IntN(h/2+1)/2, rng.IntN(w), w-1-rng.IntN(w/2+1)/2)
		b := make([]uint8, h*w)
		for i := range b {
			if rng.Float64() < 0.2 {
				b[i] = 1
			}
		}
		pt, tp, err := c.SurfaceDistances(a, b, h, w)
		if err != nil {
			t.Fatal(err)
		}
		ba, _ := Boundary(a, h, w)
		bb, _ := Boundary(b, h, w)
		check := func(name string, got []float64, from, to []uint8) {
			var want []float64
			for i, f := range from {
				if f == 0 {
					continue
				}
				best := math.Inf(1)
				for j, v := range to {
					if v != 0 {
						best = min(best, math.Hypot(float64(i/w-j/w), float64(i%w-j%w)))
					}
				}
				want = append(want, best)
			}
			if len(want) > 0 && math.IsInf(want[0], 1) {
				want = nil // other mask empty
			}
			if len(got) != len(want) {
				t.Fatalf("trial %d %s: %d distances, want %d", trial, name, len(got), len(want))
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("trial %d %s[%d] = %v, want %v", trial, name, i, got[i], want[i])
				}
			}
		}
		check("P→T", pt, ba, bb)
		check("T→P", tp, bb, ba)
	}
}

func TestEvaluate(t *testing.T) {
	const n = 10
	nan := math.NaN()
	cases := []struct {
		name        string
		pred, truth []uint8
		policy      EmptyPolicy
		want        Result
	}{
		// Truth: 4×4 square rows 2..5, cols 2..5; prediction: the same shifted
		// right by 2 (cols 4..7). Dice = 2·(4·2)/(16+16) = 0.5. Each boundary
		// has 12 pixels. P→T: rows 2 and 5 give 0,0,1,2 (cols 4..7), rows 3
		// and 4 give 1 (col 4, next to (3,5)) and 2 (col 7) → four 0s, four
		// 1s, four 2s; T→P is the mirror image. q95 of 12 values: r = 10.45,
		// s[10] = s[11] = 2 → 2; pooled 24 values: r = 21.85 → 2. Sums 12 and
		// 12: AVDPooled = 24/24 = 1, AVDMean = (12/12 + 12/12)/2 = 1.
		{"square shifted by 2", rect(n, n, 2, 5, 4, 7), rect(n, n, 2, 5, 2, 5), EmptyNaN,
			Result{Dice: 0.5, HD95Pooled: 2, HD95Max: 2, AVDPooled: 1, AVDMean: 1}},
		// Single pixels (0,0) and (3,4): each is its own boundary, both
		// directed lists are [5] (3-4-5 triangle). Dice 0.
		{"pixels 5 apart", pixels(n, n, 0, 0), pixels(n, n, 3, 4), EmptyNaN,
			Result{Dice: 0, HD95Pooled: 5, HD95Max: 5, AVDPooled: 5, AVDMean: 5}},
		// Square ring (5×5, rows/cols 2..6, hollow 3×3 centre) vs the filled
		// 5×5 square: both boundaries are the same 16 ring pixels, so every
		// distance is 0; Dice = 2·16/(16+25) = 32/41.
		{"square ring vs filled square", func() []uint8 {
			m := rect(n, n, 2, 6, 2, 6)
			for y := 3; y <= 5; y++ {
				for x := 3; x <= 5; x++ {
					m[y*n+x] = 0
				}
			}
			return m
		}(), rect(n, n, 2, 6, 2, 6), EmptyNaN,
			Result{Dice: 32. / 41, HD95Pooled: 0, HD95Max: 0, AVDPooled: 0, AVDMean: 0}},
		// Prediction: the corner pixel (2,2) of the filled truth square rows/
		// cols 2..6. P→T = [0]. T→P, from (2,2) to the 16 ring pixels: top row
		// 0,1,2,3,4; left column 1,2,3,4; bottom row (dy 4, dx 1..4) √17, √20,
		// 5, √32; right column (dy 1..3, dx 4) √17, √20, 5. Sorted: 0 1 1 2 2
		// 3 3 4 4 √17 √17 √20 √20 5 5 √32.
		// q95(T→P): r = .95·15 = 14.25 → 5 + .25(√32−5); HD95Max = that.
		// Pooled 17 values (one more 0): r = .95·16 = 15.2 → 5 + .2(√32−5).
		// Σ(T→P) = 20 + 2√17 + 2√20 + 10 + √32; AVDPooled = Σ/17;
		// AVDMean = (0 + Σ/16)/2. Dice = 2·1/(1+25).
		{"corner pixel vs square", pixels(n, n, 2, 2), rect(n, n, 2, 6, 2, 6), EmptyNaN,
			Result{Dice: 2. / 26, HD95Pooled: 5 + .2*(math.Sqrt(32)-5), HD95Max: 5 + .25*(math.Sqrt(32)-5),
				AVDPooled: (30 + 2*math.Sqrt(17) + 2*math.Sqrt(20) + math.Sqrt(32)) / 17,
				AVDMean:   (30 + 2*math.Sqrt(17) + 2*math.Sqrt(20) + math.Sqrt(32)) / 16 / 2}},
		// Empty prediction, one truth pixel: Dice 2·0/(0+1) = 0 always;
		// distances n/a (Skip), NaN, or 373.13 (Worst).
		{"empty pred, skip", make([]uint8, n*n), pixels(n, n, 4, 4), EmptySkip,
			Result{Dice: 0, HD95Pooled: nan, HD95Max: nan, AVDPooled: nan, AVDMean: nan, PredEmpty: true, Skipped: true}},
		{"empty pred, nan", make([]uint8, n*n), pixels(n, n, 4, 4), EmptyNaN,
			Result{Dice: 0, HD95Pooled: nan, HD95Max: nan, AVDPooled: nan, AVDMean: nan, PredEmpty: true}},
		{"empty truth, worst", pixels(n, n, 4, 4), make([]uint8, n*n), EmptyWorst,
			Result{Dice: 0, HD95Pooled: 373.13, HD95Max: 373.13, AVDPooled: 373.13, AVDMean: 373.13, TruthEmpty: true}},
		// Both empty: Dice 0/0 and distances undefined; Worst scores it as
		// BraTS does, Dice 1 and distance 0.
		{"both empty, skip", make([]uint8, n*n), make([]uint8, n*n), EmptySkip,
			Result{Dice: nan, HD95Pooled: nan, HD95Max: nan, AVDPooled: nan, AVDMean: nan, PredEmpty: true, TruthEmpty: true, Skipped: true}},
		{"both empty, nan", make([]uint8, n*n), make([]uint8, n*n), EmptyNaN,
			Result{Dice: nan, HD95Pooled: nan, HD95Max: nan, AVDPooled: nan, AVDMean: nan, PredEmpty: true, TruthEmpty: true}},
		{"both empty, worst", make([]uint8, n*n), make([]uint8, n*n), EmptyWorst,
			Result{Dice: 1, PredEmpty: true, TruthEmpty: true}},
	}
	for _, c := range cases {
		got, err := Evaluate(c.pred, c.truth, n, n, c.policy)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		w := c.want
		if !near(got.Dice, w.Dice) || !near(got.HD95Pooled, w.HD95Pooled) || !near(got.HD95Max, w.HD95Max) ||
			!near(got.AVDPooled, w.AVDPooled) || !near(got.AVDMean, w.AVDMean) ||
			got.PredEmpty != w.PredEmpty || got.TruthEmpty != w.TruthEmpty || got.Skipped != w.Skipped {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, w)
		}
	}
	var c Calculator
	c.Worst = 100
	if r, _ := c.Evaluate(pixels(n, n, 1, 1), make([]uint8, n*n), n, n, EmptyWorst); r.HD95Max != 100 {
		t.Errorf("Calculator.Worst = 100: HD95Max %v", r.HD95Max)
	}
	if _, err := Evaluate(make([]uint8, 99), make([]uint8, 100), n, n, EmptyNaN); err == nil {
		t.Error("99-pixel prediction: want error")
	}
	if _, err := Evaluate(make([]uint8, 100), make([]uint8, 100), 0, 100, EmptyNaN); err == nil {
		t.Error("0x100: want error")
	}
}

func TestPercentile(t *testing.T) {
	cases := []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{[]float64{4, 1, 3, 2}, 95, 3.85}, // sorted 1 2 3 4, r = .95·3 = 2.85 → 3 + .85·1 (numpy)
		{[]float64{4, 1, 3, 2}, 50, 2.5},  // r = 1.5 → 2 + .5
		{[]float64{7}, 95, 7},             // one value
		{[]float64{0, 10}, 100, 10},       // r = 1 → last
		{[]float64{0, 10}, 0, 0},          // r = 0 → first
	}
	for _, c := range cases {
		if got := Percentile(c.xs, c.q); !near(got, c.want) {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.xs, c.q, got, c.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 95)) {
		t.Error("empty: want NaN")
	}
}

func TestVolumeDice(t *testing.T) {
	// Slice 1: |P| = 2, |T| = 1, |P∩T| = 1; slice 2: |P| = 0, |T| = 2.
	// Volume: 2·1/(2+1+0+2) = 0.4 (the mean of per-slice Dice would be
	// (2/3 + 0)/2 = 1/3).
	got, err := VolumeDice([][]uint8{{1, 1, 0, 0}, {0, 0, 0, 0}}, [][]uint8{{1, 0, 0, 0}, {0, 0, 1, 1}})
	if err != nil || !near(got, 0.4) {
		t.Errorf("VolumeDice = %v, %v; want 0.4", got, err)
	}
	if got, _ := VolumeDice([][]uint8{{0}}, [][]uint8{{0}}); !math.IsNaN(got) {
		t.Errorf("all empty: %v, want NaN", got)
	}
	if _, err := VolumeDice([][]uint8{{0}}, nil); err == nil {
		t.Error("1 vs 0 slices: want error")
	}
	if _, err := VolumeDice([][]uint8{{0}}, [][]uint8{{0, 0}}); err == nil {
		t.Error("slice sizes 1 vs 2: want error")
	}
}

func TestSummary(t *testing.T) {
	// 1 2 3 4 and a NaN: mean 2.5; Σ(v−mean)² = 2.25+.25+.25+2.25 = 5;
	// sample std √(5/3), population std √(5/4); median (2+3)/2.
	var s Summary
	for _, v := range []float64{3, math.NaN(), 1, 4, 2} {
		s.Add(v)
	}
	if s.N() != 4 || s.NaNs != 1 || !near(s.Mean(), 2.5) || !near(s.Std(), math.Sqrt(5./3)) ||
		!near(s.PopStd(), math.Sqrt(5./4)) || !near(s.Median(), 2.5) {
		t.Errorf("N %d NaNs %d mean %v std %v popstd %v median %v", s.N(), s.NaNs, s.Mean(), s.Std(), s.PopStd(), s.Median())
	}
	if got, want := s.String(), "2.500 ± 1.291 (2.500)"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
	var e Summary
	if !math.IsNaN(e.Mean()) || !math.IsNaN(e.Median()) || !math.IsNaN(e.Std()) {
		t.Error("empty summary: want NaNs")
	}
}

func TestEmptyPolicy(t *testing.T) {
	for _, name := range []string{"skip", "nan", "worst"} {
		p, err := ParseEmptyPolicy(name)
		if err != nil {
			t.Fatal(err)
		}
		if s := p.String(); len(s) < 20 || s[:13] != "empty masks: " {
			t.Errorf("%s: String %q", name, s)
		}
	}
	if _, err := ParseEmptyPolicy("zero"); err == nil {
		t.Error("zero: want error")
	}
}

// BenchmarkHD95AVD1000 scores 1,000 slices of 240×240, each a disc of radius
// 8 to 40 pixels against a prediction shifted by up to 3 pixels with a
// radius up to 2 pixels off: HD95 (both conventions) and AVD (both).
func BenchmarkHD95AVD1000(b *testing.B) {
	const h, w, n = 240, 240, 1000
	rng := rand.New(rand.NewPCG(7, 8))
	disc := func(cy, cx, r float64) []uint8 {
		m := make([]uint8, h*w)
		for y := range h {
			for x := range w {
				if dy, dx := float64(y)-cy, float64(x)-cx; dy*dy+dx*dx <= r*r {
					m[y*w+x] = 1
				}
			}
		}
		return m
	}
	preds, truths := make([][]uint8, n), make([][]uint8, n)
	for i := range n {
		r := 8 + 32*rng.Float64()
		cy, cx := 50+140*rng.Float64(), 50+140*rng.Float64()
		truths[i] = disc(cy, cx, r)
		preds[i] = disc(cy+6*rng.Float64()-3, cx+6*rng.Float64()-3, r+4*rng.Float64()-2)
	}
	var c Calculator
	b.ResetTimer()
	for b.Loop() {
		for i := range n {
			r, err := c.Evaluate(preds[i], truths[i], h, w, EmptyNaN)
			if err != nil || math.IsNaN(r.HD95Max) {
				b.Fatal(r, err)
			}
		}
	}
}
