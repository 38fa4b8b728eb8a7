package evaluate

import (
	"math"
	"testing"

	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// TestAUC: pairs counted by hand. pos {3, 2}, neg {1, 2}: (3>1) (3>2) (2>1)
// and one tie (2=2) give 3.5 of 4.
func TestAUC(t *testing.T) {
	if got := AUC([]float64{3, 2}, []float64{1, 2}); got != 3.5/4 {
		t.Errorf("AUC = %v, want 0.875", got)
	}
	if got := AUC([]float64{0, 0}, []float64{0}); got != 0.5 {
		t.Errorf("all tied: AUC = %v, want 0.5", got)
	}
	if !math.IsNaN(AUC(nil, []float64{1})) {
		t.Error("no positives: want NaN")
	}
}

// TestWithEmptyPolicy: a scored row is kept; an empty prediction gets the
// BraTS worst distance under worst and NaN under skip; both empty gives Dice
// 1 and distance 0 under worst.
func TestWithEmptyPolicy(t *testing.T) {
	rows := []Row{
		{TumourPixels: 30, Predicted: 20, Dice: 0.5, HD95: 2, AVD: 1, HD95Max: 2, AVDMean: 1},
		{TumourPixels: 30, Predicted: 0, Dice: 0, HD95: math.NaN(), AVD: math.NaN(), HD95Max: math.NaN(), AVDMean: math.NaN()},
		{TumourPixels: 0, Predicted: 0, Dice: math.NaN(), HD95: math.NaN(), AVD: math.NaN(), HD95Max: math.NaN(), AVDMean: math.NaN()},
	}
	w := WithEmptyPolicy(rows, metrics.EmptyWorst)
	if w[0] != rows[0] || w[1].HD95 != metrics.WorstDistance || w[1].AVDMean != metrics.WorstDistance || w[1].Dice != 0 ||
		w[2].Dice != 1 || w[2].HD95 != 0 {
		t.Errorf("worst: %+v", w)
	}
	s := WithEmptyPolicy(w, metrics.EmptySkip)
	if !math.IsNaN(s[1].HD95) || s[1].Dice != 0 || !math.IsNaN(s[2].Dice) || s[0] != rows[0] {
		t.Errorf("skip: %+v", s)
	}
}
