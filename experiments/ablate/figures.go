package ablate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/internal/atomicfile"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/viz"
)

// DiceBoxes returns a PNG with one box plot per variant of the per-slice
// test Dice of all its runs, seeds pooled.
func DiceBoxes(scores []Score, widthPx, heightPx int) ([]byte, error) {
	var groups []viz.Group
	index := map[string]int{}
	for _, s := range scores {
		i, ok := index[s.Variant]
		if !ok {
			i = len(groups)
			index[s.Variant] = i
			groups = append(groups, viz.Group{Name: s.Variant})
		}
		groups[i].Values = append(groups[i].Values, s.SliceDice...)
	}
	return viz.MetricBoxes("Test Dice per slice, all seeds", "Dice", groups, widthPx, heightPx)
}

// Truth and mask outline colours of SliceFigure.
var (
	truthColour = color.RGBA{R: 0x20, G: 0xd0, B: 0x20, A: 0xff}
	maskColour  = color.RGBA{R: 0xff, G: 0x40, B: 0x40, A: 0xff}
)

// SliceFigure shows the test slice with the largest tumour as each variant
// sees it: the input (FLAIR) with the true tumour outlined, then, for each
// variant, its run with the first seed: the inpainting p̂B with the
// variant's mask outlined over the truth.
func SliceFigure(b backends.Backend, set *data.Set, opt Options, scale int) (image.Image, error) {
	patho := set.Select(data.Test, data.Pathological)
	if len(patho) == 0 {
		return nil, fmt.Errorf("slice set %s has no pathological test slice", set.Dir)
	}
	idx := slices.MaxFunc(patho, func(i, j int) int {
		return cmp.Compare(set.Info[i].TumourPixels, set.Info[j].TumourPixels)
	})
	h, w, c := set.Height, set.Width, set.Channels
	x := make([]float32, h*w*c)
	if _, err := set.Image(idx, x); err != nil {
		return nil, err
	}
	label, err := set.Label(idx, nil)
	if err != nil {
		return nil, err
	}
	truth := make([]float32, len(label))
	for i, l := range label {
		if l > 0 {
			truth[i] = 1
		}
	}
	in := viz.MustImage(h, w, c, x)
	truthOutline := viz.Outline{Mask: truth, Threshold: 0.5, Color: truthColour, Name: "truth"}
	// The input's panel carries an empty labelmap outline too, so that the
	// legend (taken from the first panel) names both colours.
	noMask := viz.Outline{Mask: make([]float32, h*w), Threshold: 0.5, Color: maskColour, Name: "labelmap"}
	row := []viz.Panel{{Image: in, Outlines: []viz.Outline{truthOutline, noMask}, Caption: "input"}}
	for _, v := range opt.Variants {
		m, err := pathogan.LoadInference(b, RunDir(opt.Out, v.Name, opt.Seeds[0]))
		if err != nil {
			return nil, fmt.Errorf("variant %q: %w", v.Name, err)
		}
		tr, err := m.ToHealthy(x)
		if err != nil {
			return nil, fmt.Errorf("variant %q: %w", v.Name, err)
		}
		mask := viz.Outline{Mask: tr.Labelmap, Threshold: float32(m.Cfg.Threshold), Color: maskColour, Name: "labelmap"}
		row = append(row, viz.Panel{Image: viz.MustImage(h, w, c, tr.Inpainting),
			Outlines: []viz.Outline{truthOutline, mask}, Caption: v.Name})
	}
	return viz.Montage([][]viz.Panel{row}, scale), nil
}

// Report is what ablations.json holds.
type Report struct {
	Preset    string    `json:"preset"`
	Settings  string    `json:"settings"`
	Steps     int       `json:"steps"`
	Seeds     []uint64  `json:"seeds"`
	Variants  []Variant `json:"variants"`
	Data      string    `json:"data"`
	Summaries []Summary `json:"summaries"`
	Scores    []Score   `json:"scores"`
}

// Files Write writes into the ablation's folder.
const (
	TableFile  = "ablations.md"
	JSONFile   = "ablations.json"
	BoxesFile  = "dice_boxes.png"
	SlicesFile = "slices.png"
)

// Write writes the ablation's results into opt.Out: the table
// (ablations.md), everything as JSON (ablations.json), the Dice box plots
// (dice_boxes.png) and the slice every variant segments (slices.png).
func Write(b backends.Backend, set *data.Set, opt Options, scores []Score) error {
	sums := Summarise(scores)
	rep := Report{Preset: opt.Preset, Settings: opt.Settings, Steps: opt.Steps, Seeds: opt.Seeds,
		Variants: opt.Variants, Data: set.Dir, Summaries: sums, Scores: scores}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(opt.Out, JSONFile), append(js, '\n')); err != nil {
		return err
	}
	md := fmt.Sprintf("# Ablation: preset %s, %d steps, seeds %v\n\nData: %s. Common settings: %s.\n\n%s",
		opt.Preset, opt.Steps, opt.Seeds, set.Dir, cmp.Or(opt.Settings, "none"), Table(sums))
	if err := atomicfile.WriteFile(filepath.Join(opt.Out, TableFile), []byte(md)); err != nil {
		return err
	}
	png, err := DiceBoxes(scores, 900, 500)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(opt.Out, BoxesFile), png); err != nil {
		return err
	}
	img, err := SliceFigure(b, set, opt, 3)
	if err != nil {
		return err
	}
	if png, err = viz.PNG(img); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(opt.Out, SlicesFile), png)
}
