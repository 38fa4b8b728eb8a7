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

// TestChoose: among live candidates, the latest within one standard error
// of the best AUC wins, even when a dead one scores higher; with no live
// candidate the same rule runs over all.
func TestChoose(t *testing.T) {
	cs := []Candidate{
		{AUC: 0.90, AUCStdErr: 0.02, Live: true},
		{AUC: 0.99, AUCStdErr: 0.01, Live: false},
		{AUC: 0.97, AUCStdErr: 0.02, Live: true}, // best live: 0.97 ± 0.02
		{AUC: 0.96, AUCStdErr: 0.02, Live: true}, // within one SE, later: chosen
		{AUC: 0.94, AUCStdErr: 0.02, Live: true}, // outside
	}
	if got := choose(cs); got != 3 {
		t.Errorf("chose %d, want 3 (latest live within one SE of the best live AUC)", got)
	}
	for i := range cs {
		cs[i].Live = false
	}
	if got := choose(cs); got != 1 {
		t.Errorf("none live: chose %d, want 1 (0.99 ± 0.01; nothing later within 0.98)", got)
	}
}

// TestAUCStdErr: Hanley and McNeil's eq. 2 worked by hand for A = 0.9, 50
// positive and 50 negative cases: Q1 = 0.818182, Q2 = 0.852632;
// SE² = (0.09 + 49·0.008182 + 49·0.042632) / 2500 = 0.00103194; SE = 0.03212.
func TestAUCStdErr(t *testing.T) {
	if got := AUCStdErr(0.9, 50, 50); math.Abs(got-0.03212) > 1e-4 {
		t.Errorf("AUCStdErr(0.9, 50, 50) = %v, want 0.03212", got)
	}
	if !math.IsNaN(AUCStdErr(0.9, 0, 5)) {
		t.Error("no positives: want NaN")
	}
}
