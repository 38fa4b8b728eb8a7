package diagnose

import (
	"math"
	"strings"
	"testing"
)

// mask builds an h×w mask from rows of '#' (true) and '.' (false).
func mask(rows ...string) ([]bool, int, int) {
	h, w := len(rows), len(rows[0])
	m := make([]bool, 0, h*w)
	for _, r := range rows {
		for _, c := range r {
			m = append(m, c == '#')
		}
	}
	return m, h, w
}

// TestLargestRegion: counts worked out by hand; diagonal neighbours are not
// connected (4-connectivity).
func TestLargestRegion(t *testing.T) {
	for i, c := range []struct {
		rows []string
		want int
	}{
		{[]string{"...", "...", "..."}, 0},
		{[]string{"##.", "#..", "..#"}, 3},
		{[]string{"#.#", ".#.", "#.#"}, 1},
		{[]string{"###", "..#", "###"}, 7},
		{[]string{"#..#", "#..#", "####"}, 8},
	} {
		m, h, w := mask(c.rows...)
		if got := LargestRegion(m, h, w); got != c.want {
			t.Errorf("case %d: %d, want %d", i, got, c.want)
		}
	}
}

// TestIoU: |∩|/|∪| by hand; two empty masks are the same mask.
func TestIoU(t *testing.T) {
	a, _, _ := mask("##..")
	b, _, _ := mask(".##.")
	e, _, _ := mask("....")
	if got := IoU(a, b); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("IoU = %v, want 1/3", got)
	}
	if IoU(a, a) != 1 || IoU(e, e) != 1 || IoU(a, e) != 0 {
		t.Errorf("IoU(a,a) %v, IoU(empty,empty) %v, IoU(a,empty) %v", IoU(a, a), IoU(e, e), IoU(a, e))
	}
}

// TestSplitDifference: |l1 - l2| split at the threshold by hand.
func TestSplitDifference(t *testing.T) {
	l1 := []float32{0.1, 0.4, 0.9, 0.6, 0.2}
	l2 := []float32{0.3, 0.5, 0.2, 0.7, 0.2}
	// both at or below 0.5: pixels 0, 1, 4 (0.2 + 0.1 + 0); the others 0.7 + 0.1
	below, above := SplitDifference(l1, l2, 0.5)
	if math.Abs(below-0.3) > 1e-6 || math.Abs(above-0.8) > 1e-6 {
		t.Errorf("SplitDifference = %v, %v; want 0.3, 0.8", below, above)
	}
}

// TestCentroidAndSpread: centroids by hand; two points 6 px apart are 3 px
// from their mean, and points at one place spread 0.
func TestCentroidAndSpread(t *testing.T) {
	m, _, w := mask("....", ".##.", ".##.", "....")
	if y, x := Centroid(m, w); y != 1.5 || x != 1.5 {
		t.Errorf("centroid of the centre square = (%v, %v), want (1.5, 1.5)", y, x)
	}
	m, _, w = mask("#...", "....", "...#")
	if y, x := Centroid(m, w); y != 1 || x != 1.5 {
		t.Errorf("centroid of two corners = (%v, %v), want (1, 1.5)", y, x)
	}
	if got := rmsSpread([]float64{0, 0}, []float64{0, 6}); math.Abs(got-3) > 1e-12 {
		t.Errorf("spread of two points 6 px apart = %v, want 3", got)
	}
	if got := rmsSpread([]float64{2, 2, 2}, []float64{5, 5, 5}); got != 0 {
		t.Errorf("spread of one place = %v, want 0", got)
	}
}

// TestActiveUnits: dimension 0 varies with variance 1/3·... > 0.01, dimension
// 1 is constant, dimension 2 varies by 0.05 (variance 0.00083 < 0.01).
func TestActiveUnits(t *testing.T) {
	mu := []float32{
		0, 1, 0,
		1, 1, 0.05,
		-1, 1, 0,
		0.5, 1, 0.05,
	}
	if got := ActiveUnits(mu, 3, 0.01); got != 1 {
		t.Errorf("active units %d, want 1", got)
	}
	if got := ActiveUnits(mu, 3, 1e-4); got != 2 {
		t.Errorf("active units at 1e-4: %d, want 2", got)
	}
}

// TestQuantiles: numpy.percentile([1..10], [10, 50, 90]) = 1.9, 5.5, 9.1.
func TestQuantiles(t *testing.T) {
	q := QuantilesOf([]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1})
	if math.Abs(q.Q10-1.9) > 1e-12 || q.Median != 5.5 || math.Abs(q.Q90-9.1) > 1e-12 {
		t.Errorf("quantiles %+v, want 1.9 / 5.5 / 9.1", q)
	}
}

// TestCollapsed: a report meeting every Live threshold passes; each missed
// threshold is named.
func TestCollapsed(t *testing.T) {
	live := Report{Samples: SampleStats{NonEmpty: 0.9, MeanPairwiseIoU: 0.4}, Sensitivity: Sensitivity{DeltaL: 0.02}}
	if err := live.Collapsed(Live); err != nil {
		t.Errorf("live report: %v", err)
	}
	for i, c := range []struct {
		r    Report
		want string
	}{
		{Report{Samples: SampleStats{NonEmpty: 0.5, MeanPairwiseIoU: 0.4}, Sensitivity: Sensitivity{DeltaL: 0.02}}, "add a pathology"},
		{Report{Samples: SampleStats{NonEmpty: 0.9, MeanPairwiseIoU: 0.8}, Sensitivity: Sensitivity{DeltaL: 0.02}}, "mean IoU"},
		{Report{Samples: SampleStats{NonEmpty: 0.9, MeanPairwiseIoU: 0.4}, Sensitivity: Sensitivity{DeltaL: 0.002}}, "redrawing δB"},
	} {
		err := c.r.Collapsed(Live)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: %v, want an error about %q", i, err, c.want)
		}
	}
}

// TestPlaceDistances: by hand on 8×8 labelmaps. Slice 0's lesion, a 2×2
// square centred at (1.5, 1.5), lands on its own tumour and 4√2 px from
// slice 1's at (5.5, 5.5); slice 1 draws only a 2 px region, which does not
// count with minRegion 2. A lesion that lands at one place whatever the code
// gives a ratio of 1 when the tumours lie at equal distances from it.
func TestPlaceDistances(t *testing.T) {
	square := func(y0, x0 int) []float32 {
		l := make([]float32, 64)
		for y := y0; y < y0+2; y++ {
			for x := x0; x < x0+2; x++ {
				l[y*8+x] = 0.9
			}
		}
		return l
	}
	small := make([]float32, 64)
	small[5*8+5], small[5*8+6] = 0.9, 0.9
	d := placeDistances(append(square(1, 1), small...), 8, []float64{1.5, 5.5}, []float64{1.5, 5.5}, 0.5, 2)
	if d.Landed != 0.5 || d.Own != 0 || math.Abs(d.Other-4*math.Sqrt2) > 1e-12 || d.Ratio != 0 {
		t.Errorf("own place: %+v, want landed 0.5, own 0, other 4√2, ratio 0", d)
	}
	// both lesions at (3.5, 3.5); the tumours at (1.5, 3.5) and (5.5, 3.5), 2 px away each
	d = placeDistances(append(square(3, 3), square(3, 3)...), 8, []float64{1.5, 5.5}, []float64{3.5, 3.5}, 0.5, 2)
	if d.Landed != 1 || d.Own != 2 || d.Other != 2 || d.Ratio != 1 {
		t.Errorf("one place: %+v, want landed 1, own 2, other 2, ratio 1", d)
	}
	if d = placeDistances(append(small, small...), 8, []float64{1, 2}, []float64{1, 2}, 0.5, 2); d != (PlaceDistances{}) {
		t.Errorf("nothing landed: %+v, want zeros", d)
	}
}
