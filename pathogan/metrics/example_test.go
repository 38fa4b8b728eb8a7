package metrics_test

import (
	"fmt"

	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// square returns an h×w mask with the rows [y0, y1) and columns [x0, x1) set.
func square(h, w, y0, y1, x0, x1 int) []uint8 {
	m := make([]uint8, h*w)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m[y*w+x] = 1
		}
	}
	return m
}

func ExampleDice() {
	// A 3×3 tumour and a prediction shifted one column to the right:
	// 6 of its 9 pixels overlap, Dice = 2·6 / (9 + 9).
	truth := square(8, 8, 2, 5, 2, 5)
	pred := square(8, 8, 2, 5, 3, 6)
	fmt.Printf("%.4f\n", metrics.Dice(pred, truth))
	// Output: 0.6667
}

func ExampleEvaluate() {
	// The same pair. Each boundary has 8 pixels (the square less its
	// centre); in each direction 4 of them lie on the other boundary
	// (distance 0) and 4 one pixel from it, so HD95 = 1 and AVD = 8/16.
	truth := square(8, 8, 2, 5, 2, 5)
	pred := square(8, 8, 2, 5, 3, 6)
	r, err := metrics.Evaluate(pred, truth, 8, 8, metrics.EmptySkip)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Dice %.4f, HD95 %.2f px (max of the two directions %.2f), AVD %.4f px (MedPy assd %.4f)\n",
		r.Dice, r.HD95Pooled, r.HD95Max, r.AVDPooled, r.AVDMean)

	// An empty prediction: distances are undefined, and the policy says
	// how to score them.
	for _, name := range []string{"skip", "worst"} {
		p, _ := metrics.ParseEmptyPolicy(name)
		r, _ := metrics.Evaluate(make([]uint8, 64), truth, 8, 8, p)
		fmt.Printf("empty prediction, %s: Dice %g, HD95 %g, skipped %v\n", name, r.Dice, r.HD95Pooled, r.Skipped)
	}
	// Output:
	// Dice 0.6667, HD95 1.00 px (max of the two directions 1.00), AVD 0.5000 px (MedPy assd 0.5000)
	// empty prediction, skip: Dice 0, HD95 NaN, skipped true
	// empty prediction, worst: Dice 0, HD95 373.13, skipped false
}
