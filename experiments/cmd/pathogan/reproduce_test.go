package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
)

// TestReproduceResumes runs the main job end to end on a tiny configuration
// (6 phantom patients, a few steps of the tiny presets) and checks the report
// folder; then runs it again on the same folder and checks that it resumed:
// no training step is repeated and the report is rewritten. `table` then
// rebuilds Table 1 from the three evaluated runs (PathoGAN, U-Net, MDGRU).
func TestReproduceResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two tiny models")
	}
	out := filepath.Join(t.TempDir(), "rep")
	args := []string{"--out", out, "--preset", "tiny", "--patients", "10", "--steps", "4", "--baseline-steps", "3", "--val-fraction", "0.3",
		"--baselines", "unet,mdgru", "--mdgru-steps", "2"}
	first := capture(t, func() error { return runReproduce(args) })
	for _, want := range []string{"| PathoGAN | Tr |", "| PathoGAN | Te |", "| U-Net, supervised | Te |", "| MDGRU, supervised | Te |", "*PathoGAN (paper)*", "empty masks: skip"} {
		if !strings.Contains(first, want) {
			t.Errorf("output lacks %q:\n%s", want, first)
		}
	}
	rep := filepath.Join(out, "report")
	md, err := os.ReadFile(filepath.Join(rep, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Table 1", "![figure2.png](figure2.png)", "\"model\": \"unet\"", "\"model\": \"mdgru\"", "| train MDGRU |", "| train PathoGAN |", "| total |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, want := range []string{"## Model selection", "## Latent samples and diagnostics", "## Inpainting against the healthy ground truth", "empty masks: worst"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if m, err := checkpoint.ReadHeader(filepath.Join(rep, "model.ckpt")); err != nil || len(m.Variables) == 0 || strings.Contains(fmt.Sprint(m.Variables), "/d_a/") {
		t.Errorf("model.ckpt: %v (want the generators only)", err)
	}
	var res map[string]any
	if b, err := os.ReadFile(filepath.Join(rep, "metrics.json")); err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("metrics.json: %v", err)
	}
	for _, k := range []string{"pathogan_test_dice", "pathogan_test_dice_last", "unet_test_dice", "pathogan_test_dice_pp",
		"mdgru_test_dice", "samples_nonempty_fraction", "samples_mean_pairwise_iou", "samples_place_spread_px", "inpaint_mae_tumour", "inpaint_mae_baseline", "inpaint_detail", "inpaint_detail_tumour", "cycle_code_landed", "healthy_code_landed", "image_size", "minutes"} {
		if _, ok := res[k].(float64); !ok {
			t.Errorf("metrics.json: %s is %v, want a number", k, res[k])
		}
	}
	// inspect on the same run scores the inpainting too, with the report's numbers.
	inspArgs := []string{"--run", filepath.Join(out, "report", "model.ckpt"), "--data", filepath.Join(out, "slices32"), "--healthy", "4", "--pathological", "4"}
	text := capture(t, func() error { return runInspect(inspArgs) })
	if !strings.Contains(text, "inpainting against the healthy truth") || !strings.Contains(text, "detail ") || !strings.Contains(text, "decoded by EA") {
		t.Errorf("inspect's output lacks the inpainting:\n%s", text)
	}
	var insp struct {
		GammaActive *int `json:"gamma_active_units"`
		Inpainting  *struct {
			MeanTumour       float64 `json:"mean_tumour"`
			DetailInpainting float64 `json:"detail_inpainting"`
		} `json:"inpainting"`
	}
	if err := json.Unmarshal([]byte(capture(t, func() error { return runInspect(append(inspArgs, "--json")) })), &insp); err != nil || insp.Inpainting == nil || insp.GammaActive == nil {
		t.Fatalf("inspect --json: %v, inpainting %v, report fields kept %v", err, insp.Inpainting, insp.GammaActive != nil)
	}
	if insp.Inpainting.MeanTumour != res["inpaint_mae_tumour"] || insp.Inpainting.DetailInpainting != res["inpaint_detail"] {
		t.Errorf("inspect --json: MAE %v, detail %v; the report's %v, %v", insp.Inpainting.MeanTumour, insp.Inpainting.DetailInpainting, res["inpaint_mae_tumour"], res["inpaint_detail"])
	}
	if res["image_size"] != 32.0 {
		t.Errorf("metrics.json: image_size %v, want 32 (tiny preset)", res["image_size"])
	}
	for _, f := range []string{"figure2.png", "samples.png", "selection.png", "curves_pathogan.png", "curves_unet.png", "dice.png"} {
		b, err := os.ReadFile(filepath.Join(rep, f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	ckpts := func(run string) []string {
		l, _ := checkpoint.List(filepath.Join(out, run, checkpoint.Dir))
		return l
	}
	before := append(ckpts("pathogan"), ckpts("unet")...)
	mdgruBefore := ckpts("mdgru")
	if len(before) != 6 || !strings.HasSuffix(before[3], checkpoint.Name(4)) || !strings.HasSuffix(before[5], checkpoint.Name(3)) {
		t.Fatalf("checkpoints %v, want PathoGAN's steps 1-4 (all kept, for selection) and the U-Net's last two of 3", before)
	}
	if sel, err := os.ReadFile(filepath.Join(out, "pathogan", "selection.csv")); err != nil || strings.Count(string(sel), "\n") != 5 {
		t.Errorf("selection.csv: %v\n%s", err, sel)
	}
	stat := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime().UnixNano()
	}
	mtime := stat(before[3])
	capture(t, func() error { return runReproduce(args) })
	after := append(ckpts("pathogan"), ckpts("unet")...)
	if m := ckpts("mdgru"); len(m) != 2 || strings.Join(m, ",") != strings.Join(mdgruBefore, ",") {
		t.Errorf("MDGRU checkpoints %v -> %v, want its two steps, not retrained", mdgruBefore, m)
	}
	if strings.Join(after, ",") != strings.Join(before, ",") || stat(after[3]) != mtime {
		t.Errorf("a second run retrained: checkpoints %v -> %v", before, after)
	}
	hist, _ := os.ReadFile(filepath.Join(out, "pathogan", "losses.csv"))
	if n := strings.Count(strings.TrimSpace(string(hist)), "\n"); n != 4 {
		t.Errorf("losses.csv has %d step rows after resuming, want 4", n)
	}
	table := capture(t, func() error {
		return runTable([]string{"--runs", filepath.Join(out, "pathogan") + "," + filepath.Join(out, "unet") + "," + filepath.Join(out, "mdgru"), "--csv", filepath.Join(out, "t.csv")})
	})
	if !strings.Contains(table, "| U-Net, supervised | Tr |") || !strings.Contains(table, "| MDGRU, supervised | Tr |") {
		t.Errorf("table output:\n%s", table)
	}
	if b, err := os.ReadFile(filepath.Join(out, "t.csv")); err != nil || !strings.HasPrefix(string(b), "method,split,slices,patients,dice_mean") {
		t.Errorf("table CSV: %v %q", err, b)
	}
}
