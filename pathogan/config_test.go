package pathogan

import "testing"

// TestOldConfigsKeepTheirRelevancy: a config saved before relevancy_scale_b
// existed reads with the scale at 1, what that run trained with, not 0
// (which would switch GB's relevancy term off on resume).
func TestOldConfigsKeepTheirRelevancy(t *testing.T) {
	c, err := decodeConfig([]byte(`{"preset":"small","lambda_r":0.5}`))
	if err != nil || c.RelevancyScaleB != 1 {
		t.Errorf("decodeConfig = %v (relevancy_scale_b %g), want 1", err, c.RelevancyScaleB)
	}
	c, _ = decodeConfig([]byte(`{"relevancy_scale_b":4}`))
	if c.RelevancyScaleB != 4 {
		t.Errorf("relevancy_scale_b %g, want 4", c.RelevancyScaleB)
	}
	for _, p := range PresetNames() {
		want := 1.0 // the paper's
		if p == "small" {
			want = 4 // measured at 64 px (docs/model.md)
		}
		c, _ := Preset(p)
		if c.RelevancyScaleB != want {
			t.Errorf("preset %s: relevancy_scale_b %g, want %g", p, c.RelevancyScaleB, want)
		}
		if c.Section24().RelevancyScaleB != 1 {
			t.Errorf("preset %s: Section24 keeps relevancy_scale_b %g, want 1", p, c.RelevancyScaleB)
		}
	}
}
