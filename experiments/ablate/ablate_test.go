package ablate

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/experiments/quickstart"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// TestParseVariants: names of Known, settings as variants, "full" added
// first, and clear errors.
func TestParseVariants(t *testing.T) {
	vs, err := ParseVariants("no-kl, lambda_r=2;lambda_kl=0")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0] != (Variant{Full, ""}) || vs[1] != (Variant{"no-kl", "lambda_kl=0"}) || vs[2] != (Variant{"lambda_r=2;lambda_kl=0", "lambda_r=2;lambda_kl=0"}) {
		t.Errorf("got %+v", vs)
	}
	for in, want := range map[string]string{
		"no-such":     `variant "no-such": not a known variant`,
		"no-kl,no-kl": `variant "no-kl": listed twice`,
	} {
		if _, err := ParseVariants(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	// A variant that changes nothing in the preset is refused, naming it.
	_, err = Configs(Options{Preset: "small", Variants: []Variant{{Full, ""}, {"no-idt", "lambda_idt=0"}}})
	if err == nil || !strings.Contains(err.Error(), `"no-idt" (lambda_idt=0) changes nothing in preset "small"`) {
		t.Errorf("no-idt in small: %v", err)
	}
	if _, err := Configs(Options{Preset: "small", Variants: []Variant{{"x", "lambda_r=-1"}}}); err == nil || !strings.Contains(err.Error(), `variant "x"`) {
		t.Errorf("invalid settings: %v", err)
	}
}

// TestSummarise: mean ± std over seeds, the difference from the full model
// paired by seed, and the verdict against the seed spread.
func TestSummarise(t *testing.T) {
	var scores []Score
	add := func(v string, dice ...float64) {
		for i, d := range dice {
			scores = append(scores, Score{Variant: v, Seed: uint64(i + 1), Dice: d, Live: i == 0})
		}
	}
	add(Full, 0.70, 0.75, 0.72)
	add("worse", 0.50, 0.56, 0.51) // 0.20 ± 0.01 below, seed by seed
	add("same", 0.72, 0.73, 0.73)  // +0.02, -0.02, +0.01: noise
	add("two", 0.40, 0.45)
	sums := Summarise(scores)
	if len(sums) != 4 || sums[0].Variant != Full || sums[1].Variant != "worse" {
		t.Fatalf("summaries %+v", sums)
	}
	if d := sums[0].Dice; math.Abs(d.Mean-0.72333) > 1e-4 || math.Abs(d.Std-0.02517) > 1e-4 || d.N != 3 {
		t.Errorf("full: %+v", d)
	}
	if d := sums[1].DiceDiff; math.Abs(d.Mean+0.20) > 1e-9 || math.Abs(d.Std-0.01) > 1e-9 {
		t.Errorf("worse: diff %+v, want -0.20 ± 0.01", d)
	}
	if !sums[1].Differs() || sums[2].Differs() || sums[3].Differs() || sums[0].Differs() {
		t.Errorf("Differs: worse %v, same %v, two %v, full %v; want true, false, false, false",
			sums[1].Differs(), sums[2].Differs(), sums[3].Differs(), sums[0].Differs())
	}
	if sums[1].LiveRuns != 1 {
		t.Errorf("live runs %d, want 1", sums[1].LiveRuns)
	}
	table := Table(sums)
	for _, want := range []string{"| full | – | 3 | 72.3 ± 2.5 | – | – |", "| worse | – | 3 | 52.3 ± 3.2 | -20.0 ± 1.0 | yes |",
		"| same |", "| +0.3 ± 2.1 | no |", "| two | – | 2 |", "too few seeds"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	js, err := json.Marshal(sums)
	if err != nil {
		t.Fatalf("summaries with NaN do not encode: %v", err)
	}
	var back []Summary
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if got := Table(back); got != table {
		t.Errorf("the table of decoded summaries differs:\n%s\nwant\n%s", got, table)
	}
}

// TestRun trains two variants with two seeds for a few steps of the tiny
// preset, writes the results, and runs again: nothing is retrained and the
// scores are the same. Another schedule in the same folder is refused.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four tiny models")
	}
	dir := t.TempDir()
	set, err := quickstart.PhantomSet(dir, 6, 1, 32, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ParseVariants("no-kl")
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Preset: "tiny", Variants: vs, Seeds: []uint64{1, 2}, Steps: 2, Out: filepath.Join(dir, "ablate")}
	trained := 0
	scores, err := Run(b, set, opt, func(e Event) {
		if e.Step > 0 && e.Score == nil {
			trained++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 4 || trained != 8 {
		t.Fatalf("%d scores, %d steps trained; want 4 and 8", len(scores), trained)
	}
	if scores[0].Variant != Full || scores[2].Variant != "no-kl" || scores[3].Seed != 2 || scores[3].Step != 2 || len(scores[0].SliceDice) == 0 || scores[0].InpaintError == nil {
		t.Errorf("scores %+v", scores)
	}
	if err := Write(b, set, opt, scores); err != nil {
		t.Fatal(err)
	}
	var rep Report
	js, err := os.ReadFile(filepath.Join(opt.Out, JSONFile))
	if err != nil || json.Unmarshal(js, &rep) != nil || len(rep.Summaries) != 2 || len(rep.Scores) != 4 {
		t.Fatalf("%s: %v %+v", JSONFile, err, rep)
	}
	for _, f := range []string{TableFile, BoxesFile, SlicesFile} {
		if st, err := os.Stat(filepath.Join(opt.Out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}

	trained = 0
	again, err := Run(b, set, opt, func(e Event) {
		if e.Step > 0 && e.Score == nil {
			trained++
		}
	})
	if err != nil || trained != 0 {
		t.Fatalf("second run: %v, %d steps trained", err, trained)
	}
	a, _ := json.Marshal(again)
	s, _ := json.Marshal(scores)
	if string(a) != string(s) {
		t.Errorf("second run's scores differ:\n%s\n%s", a, s)
	}

	opt.Steps = 3
	if _, err := Run(b, set, opt, nil); err == nil || !strings.Contains(err.Error(), "use another --out") {
		t.Errorf("another schedule in the same folder: %v", err)
	}

	stop := make(chan struct{})
	close(stop)
	opt.Out, opt.Stop, opt.Steps = filepath.Join(dir, "stopped"), stop, 5
	if _, err := Run(b, set, opt, nil); !errors.Is(err, training.ErrInterrupted) {
		t.Errorf("stopped: %v, want ErrInterrupted", err)
	}
}
