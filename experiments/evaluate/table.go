package evaluate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// PaperRow is one row of the paper's Table 1, quoted as printed.
type PaperRow struct {
	Method, Split           string
	Dice, HD95, AVD, DicePP string
}

// PaperRows are the paper's Table 1 (BraTS 2017, 240×240 slices, MDGRU the
// fully supervised method), quoted for reference.
var PaperRows = []PaperRow{
	{"PathoGAN (paper)", "Tr", "72.4 ± 24.4 (81.0)", "40.6 ± 30.7 (38.0)", "10.3 ± 15.4 (4.7)", "77.4 ± 14.4 (81.2)"},
	{"PathoGAN (paper)", "Te", "72.9 ± 23.8 (81.4)", "39.4 ± 29.9 (37.6)", "9.4 ± 13.7 (4.6)", "77.4 ± 14.4 (81.7)"},
	{"MDGRU, supervised (paper)", "Tr", "87.8 ± 20.0 (94.4)", "3.7 ± 9.7 (1.0)", "1.0 ± 4.7 (0.2)", "90.8 ± 8.8 (93.3)"},
	{"MDGRU, supervised (paper)", "Te", "86.3 ± 21.3 (93.6)", "3.9 ± 9.5 (1.0)", "1.1 ± 4.9 (0.2)", "90.6 ± 9.5 (93.1)"},
}

// Entry is one evaluated run.
type Entry struct {
	Meta Meta
	Rows []Row
}

// Cell formats a summary scaled by scale as "m ± s (median)" with one
// decimal, as the paper prints; "n/a" when it holds no value.
func Cell(s metrics.Summary, scale float64) string {
	if s.N() == 0 {
		return "n/a"
	}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "n/a"
		}
		return strconv.FormatFloat(v*scale, 'f', 1, 64)
	}
	return fmt.Sprintf("%s ± %s (%s)", f(s.Mean()), f(s.Std()), f(s.Median()))
}

// splits are the table's rows per method: training (Tr) and test (Te).
var splits = []struct{ name, short string }{{data.Train, "Tr"}, {data.Test, "Te"}}

// Table formats Table 1 for the entries (rows per method and split) with
// the paper's rows quoted below ours, as Markdown, and the same numbers as
// CSV records (ours only, with the counts and both distance conventions).
func Table(entries []Entry) (markdown string, records [][]string) {
	var b strings.Builder
	b.WriteString("| Method | Split | Dice (%) | HD95 (px) | AVD (px) | Dice PP (%) | slices | patients |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | ---: | ---: |\n")
	records = [][]string{{"method", "split", "slices", "patients",
		"dice_mean", "dice_std", "dice_median", "hd95_mean", "hd95_std", "hd95_median",
		"avd_mean", "avd_std", "avd_median", "dice_pp_mean", "dice_pp_std", "dice_pp_median",
		"hd95_max_mean", "avd_mean_mean", "dice_nan", "distance_nan"}}
	num := func(v float64) string {
		if math.IsNaN(v) {
			return "nan"
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	sizes := map[int]bool{}
	var policies []string
	var nanNotes []string
	for _, e := range entries {
		sizes[e.Meta.Size] = true
		if !slices.Contains(policies, e.Meta.Policy) {
			policies = append(policies, e.Meta.Policy)
		}
		for _, sp := range splits {
			s := Summarise(e.Rows, sp.name)
			if s.Slices == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d | %d |\n", e.Meta.Method, sp.short,
				Cell(s.Dice, 100), Cell(s.HD95, 1), Cell(s.AVD, 1), Cell(s.DicePP, 100), s.Slices, s.Patients)
			records = append(records, []string{e.Meta.Method, sp.short, strconv.Itoa(s.Slices), strconv.Itoa(s.Patients),
				num(s.Dice.Mean()), num(s.Dice.Std()), num(s.Dice.Median()),
				num(s.HD95.Mean()), num(s.HD95.Std()), num(s.HD95.Median()),
				num(s.AVD.Mean()), num(s.AVD.Std()), num(s.AVD.Median()),
				num(s.DicePP.Mean()), num(s.DicePP.Std()), num(s.DicePP.Median()),
				num(s.HD95Max.Mean()), num(s.AVDMean.Mean()), strconv.Itoa(s.Dice.NaNs), strconv.Itoa(s.HD95.NaNs)})
			if s.Dice.NaNs > 0 || s.HD95.NaNs > 0 {
				nanNotes = append(nanNotes, fmt.Sprintf("%s (%s): %d of %d slices without a Dice, %d without distances",
					e.Meta.Method, sp.short, s.Dice.NaNs, s.Slices, s.HD95.NaNs))
			}
		}
	}
	for _, p := range PaperRows {
		fmt.Fprintf(&b, "| *%s* | %s | *%s* | *%s* | *%s* | *%s* | | |\n", p.Method, p.Split, p.Dice, p.HD95, p.AVD, p.DicePP)
	}
	var sz []string
	for _, s := range slices.Sorted(maps.Keys(sizes)) {
		sz = append(sz, strconv.Itoa(s))
	}
	b.WriteString("\nmean ± std (median) over the pathological slices of each split (std: sample std); Dice PP stacks each patient's evaluated slices into one volume.\n")
	fmt.Fprintf(&b, "HD95 and AVD in pixels of the evaluated %s px slices, MedPy's convention (95th percentile and mean of both directed boundary distances pooled); the paper's rows are at 240 px, so distances do not compare across sizes.\n", strings.Join(sz, "/"))
	for _, p := range policies {
		fmt.Fprintf(&b, "%s.\n", p)
	}
	for _, n := range nanNotes {
		fmt.Fprintf(&b, "%s.\n", n)
	}
	b.WriteString("Rows in italics are the paper's Table 1, quoted (BraTS 2017 at 240 px; MDGRU is the paper's supervised method, which `reproduce --baselines unet,mdgru` also runs here).\n")
	return b.String(), records
}
