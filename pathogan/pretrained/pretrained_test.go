package pretrained

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/phantom"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/diagnose"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// phantomSet writes 10 phantom patients of a seed the shipped model never saw
// and prepares them at 64 px.
func phantomSet(t *testing.T) *data.Set {
	t.Helper()
	dir := t.TempDir()
	cfg := phantom.DefaultConfig()
	cfg.Patients, cfg.Seed = 10, 77
	if err := phantom.Write(filepath.Join(dir, "ph"), cfg, 2, nil); err != nil {
		t.Fatal(err)
	}
	opt := data.DefaultOptions()
	opt.Size, opt.TestFraction = 64, 0.5
	if _, err := data.Prepare(filepath.Join(dir, "ph"), filepath.Join(dir, "s"), opt, nil); err != nil {
		t.Fatal(err)
	}
	set, err := data.Open(filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

// TestShippedModel loads the embedded model and checks what it is for on
// phantom patients it never saw: GB segments (mean test Dice above 0.5),
// and its latent space is live by diagnose.Live, which the same model with
// δB cut off from EA (EA's first dense layer's δ rows set to 0), whose
// samples no longer depend on δB at all, fails. diagnose.Liveness, the
// cheaper check that checkpoint selection runs, measures the same samples
// and δB sensitivity as Inspect and gives both models the same verdict. The
// codes ∆B gives real tumours decode to lesions near those tumours (models
// before label_cycle_scale_a decoded them to nothing).
func TestShippedModel(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10 phantom patients")
	}
	m := shipped(t)
	if m.Cfg.Size != 64 || m.Cfg.Channels != 4 {
		t.Fatalf("shipped model takes %dx%dx%d", m.Cfg.Size, m.Cfg.Size, m.Cfg.Channels)
	}
	set := phantomSet(t)
	dice := testDice(t, m, set)
	if d := dice.Mean(); d < 0.5 {
		t.Errorf("shipped model: test Dice %.3f, want > 0.5", d)
	}
	r, err := diagnose.Inspect(m, set, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live := r.Collapsed(diagnose.Live)
	t.Logf("shipped model: Dice %.3f; samples %.2f with a region, IoU %.2f, δB sensitivity %.4f (%v)",
		dice.Mean(), r.Samples.NonEmpty, r.Samples.MeanPairwiseIoU, r.Sensitivity.DeltaL, live)
	if p := r.Place; p.Cycle.Landed < 0.5 || p.Healthy.Landed < 0.5 || p.Healthy.Ratio > 0.5 {
		t.Errorf("shipped model: tumours' codes give a lesion in %.2f (cycle) and %.2f (healthy slices), ratio of distances %.2f; want >= 0.5, >= 0.5 and <= 0.5",
			p.Cycle.Landed, p.Healthy.Landed, p.Healthy.Ratio)
	}
	lv, err := diagnose.Liveness(m, set, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if lv.Samples != r.Samples || lv.Sensitivity.DeltaL != r.Sensitivity.DeltaL {
		t.Errorf("Liveness measured samples %+v and δB sensitivity %g; Inspect %+v and %g",
			lv.Samples, lv.Sensitivity.DeltaL, r.Samples, r.Sensitivity.DeltaL)
	}

	// Cut δB off: rows z..2z of EA's first dense layer multiply δB.
	v := m.Ctx.GetVariableByScopeAndName("/"+pathogan.ScopeEA+"/l0", "weights")
	if v == nil {
		t.Fatal("no EA l0 weights")
	}
	w := tensors.MustCopyFlatData[float32](v.MustValue())
	z, cols := m.Cfg.Z, v.Shape().Dimensions[1]
	for i := z * cols; i < 2*z*cols; i++ {
		w[i] = 0
	}
	v.MustSetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...))
	cut, err := diagnose.Inspect(m, set, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cut.Sensitivity.DeltaL != 0 || cut.Samples.MeanPairwiseIoU != 1 {
		t.Errorf("δB cut off: sensitivity %g, IoU %g, want 0 and 1", cut.Sensitivity.DeltaL, cut.Samples.MeanPairwiseIoU)
	}
	if err := cut.Collapsed(diagnose.Live); err == nil {
		t.Error("δB cut off: Collapsed says the latent space is live")
	}
	if cutLv, err := diagnose.Liveness(m, set, diagnose.Options{}); err != nil {
		t.Fatal(err)
	} else if err := cutLv.Collapsed(diagnose.Live); err == nil {
		t.Error("δB cut off: Liveness's report says the latent space is live")
	}
	if live != nil {
		t.Errorf("shipped model: %v", live)
	}
}

// testDice segments the set's pathological test slices with m and summarises
// their Dice against the whole tumour, leaving out slices where prediction
// and truth are both empty (NaN).
func testDice(t *testing.T, m *pathogan.Inference, set *data.Set) *metrics.Summary {
	t.Helper()
	c := m.Cfg
	per, px := c.Size*c.Size*c.Channels, c.Size*c.Size
	var sum metrics.Summary
	for _, idx := range set.Select(data.Test, data.Pathological) {
		x := make([]float32, per)
		if _, err := set.Image(idx, x); err != nil {
			t.Fatal(err)
		}
		truth, err := set.Label(idx, nil)
		if err != nil {
			t.Fatal(err)
		}
		lm, err := m.Segment(x)
		if err != nil {
			t.Fatal(err)
		}
		sum.Add(metrics.Dice(metrics.Threshold(lm[:px], c.Threshold), truth))
	}
	return &sum
}

// TestSlices: the shipped example slices decode, have the model's shape,
// the pathological ones hold a tumour and the healthy ones none, and the
// shipped model segments the largest tumour (Dice above 0.5).
func TestSlices(t *testing.T) {
	all, err := Slices()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("%d example slices, want 4", len(all))
	}
	for _, s := range all {
		tumour := 0
		for _, l := range s.Label {
			if l != 0 {
				tumour++
			}
		}
		if s.Size != 64 || s.Channels != 4 || (strings.HasPrefix(s.Role, "healthy") != (tumour == 0)) {
			t.Errorf("%s (%s): %d×%d×%d, %d tumour px", s.Name, s.Role, s.Size, s.Size, s.Channels, tumour)
		}
	}
	m := shipped(t)
	s, err := SliceByRole(RoleLargest)
	if err != nil {
		t.Fatal(err)
	}
	lm, err := m.Segment(s.Image)
	if err != nil {
		t.Fatal(err)
	}
	if d := metrics.Dice(metrics.Threshold(lm, m.Cfg.Threshold), s.Label); d < 0.5 {
		t.Errorf("shipped model on %s: Dice %.3f, want > 0.5", s.Name, d)
	}
	if _, err := SliceByRole("nope"); err == nil {
		t.Error("SliceByRole(nope): no error")
	}
}

// shipped loads the shipped model on the default backend.
func shipped(t *testing.T) *pathogan.Inference {
	t.Helper()
	b, _, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	m, err := PathoGAN(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
