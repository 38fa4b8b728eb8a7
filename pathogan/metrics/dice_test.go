package metrics

import (
	"math"
	"testing"
)

// TestDice checks cases worked out by hand.
func TestDice(t *testing.T) {
	cases := []struct {
		pred, truth []uint8
		want        float64
	}{
		{[]uint8{1, 1, 0, 0}, []uint8{1, 1, 0, 0}, 1},      // identical
		{[]uint8{1, 1, 0, 0}, []uint8{0, 0, 1, 1}, 0},      // disjoint
		{[]uint8{1, 1, 1, 0}, []uint8{0, 1, 1, 1}, 2. / 3}, // 2·2 / (3+3)
		{[]uint8{0, 0}, []uint8{4, 0}, 0},                  // empty prediction, label 4 counts as foreground
	}
	for i, c := range cases {
		if got := Dice(c.pred, c.truth); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
	if !math.IsNaN(Dice([]uint8{0}, []uint8{0})) {
		t.Error("both empty: want NaN")
	}
	if got := Threshold([]float32{0.2, 0.5, 0.9}, 0.5); got[0] != 0 || got[1] != 1 || got[2] != 1 {
		t.Errorf("Threshold: %v", got)
	}
}
