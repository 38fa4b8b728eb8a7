package pathogan

import (
	"strings"
	"testing"
)

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
	for _, f := range []struct {
		name  string
		get   func(Config) float64
		small float64 // measured at 64 px; the other presets keep 0, read as the paper's 1
	}{
		{"inpaint_scale_b", func(c Config) float64 { return c.InpaintScaleB }, 3},         // docs/model.md, "Why the long run breaks"
		{"label_cycle_scale_a", func(c Config) float64 { return c.LabelCycleScaleA }, 50}, // docs/model.md, "Where ∆B's code puts a lesion"
	} {
		for _, p := range PresetNames() {
			want := 0.0
			if p == "small" {
				want = f.small
			}
			if c, _ := Preset(p); f.get(c) != want {
				t.Errorf("preset %s: %s %g, want %g", p, f.name, f.get(c), want)
			}
		}
	}
}

// TestUpsampleModes: each Upsample value puts the resize-convolution where
// its comment says, "" reads as the paper's transposed convolution, and an
// unknown mode is refused by name.
func TestUpsampleModes(t *testing.T) {
	for _, c := range []struct{ mode, ea, zb string }{
		{"", "transpose", "transpose"}, {"transpose", "transpose", "transpose"},
		{"resize", "resize", "resize"}, {"resize_zb", "transpose", "resize"},
	} {
		cfg, _ := Preset("small")
		cfg.Upsample = c.mode
		if err := cfg.Validate(); err != nil {
			t.Errorf("upsample %q: %v", c.mode, err)
		}
		if cfg.upsampleEA() != c.ea || cfg.upsampleZB() != c.zb {
			t.Errorf("upsample %q: EA %s, ZB %s; want %s, %s", c.mode, cfg.upsampleEA(), cfg.upsampleZB(), c.ea, c.zb)
		}
	}
	cfg, _ := Preset("small")
	cfg.Upsample = "bilinear"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "bilinear") {
		t.Errorf("upsample bilinear: error %v, want one naming it", err)
	}
	cfg, _ = Preset("small")
	cfg.InpaintLoss = "huber"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "huber") {
		t.Errorf("inpaint_loss huber: error %v, want one naming it", err)
	}
	cfg.InpaintLoss = "l1"
	if err := cfg.Validate(); err != nil || cfg.Section24().InpaintLoss != "" {
		t.Errorf("inpaint_loss l1: %v; Section24 keeps %q, want \"\"", err, cfg.Section24().InpaintLoss)
	}
}
