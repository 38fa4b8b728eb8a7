package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// metricsReport is what `pathogan metrics --json` prints; nil is JSON null
// (NaN or not available under the empty-mask policy).
type metricsReport struct {
	Dice       *float64 `json:"dice"`
	HD95Pooled *float64 `json:"hd95_pooled"`
	HD95Max    *float64 `json:"hd95_max"`
	AVDPooled  *float64 `json:"avd_pooled"`
	AVDMean    *float64 `json:"avd_mean"`
}

func orNull(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func runMetrics(args []string) error {
	fs := newFlags("metrics", "--pred P.npy --truth T.npy [--json] [--empty skip|nan|worst]")
	pred := fs.String("pred", "", "predicted 2-D mask (.npy, non-zero = foreground)")
	truth := fs.String("truth", "", "ground-truth 2-D mask (.npy, non-zero = foreground)")
	asJSON := fs.Bool("json", false, "print one JSON object (keys dice, hd95_pooled, hd95_max, avd_pooled, avd_mean; null when unavailable)")
	empty := fs.String("empty", "skip", "empty-mask policy for HD95/AVD: skip, nan or worst (373.13 px, as BraTS)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef(fs, "unexpected arguments %q", rest)
	}
	if *pred == "" || *truth == "" {
		return usagef(fs, "--pred and --truth are required")
	}
	policy, err := metrics.ParseEmptyPolicy(*empty)
	if err != nil {
		return asUsage(fmt.Errorf("--empty: %w", err))
	}
	p, h, w, err := data.ReadMaskNpy(*pred)
	if err != nil {
		return err
	}
	t, th, tw, err := data.ReadMaskNpy(*truth)
	if err != nil {
		return err
	}
	if th != h || tw != w {
		return fmt.Errorf("prediction is %dx%d, truth %dx%d", h, w, th, tw)
	}
	r, err := metrics.Evaluate(p, t, h, w, policy)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(metricsReport{orNull(r.Dice), orNull(r.HD95Pooled), orNull(r.HD95Max), orNull(r.AVDPooled), orNull(r.AVDMean)})
	}
	show := func(v float64) string {
		if math.IsNaN(v) && r.Skipped {
			return "n/a"
		}
		return fmt.Sprintf("%.4f", v)
	}
	fmt.Printf("%-12s %s\n", "pred", *pred)
	fmt.Printf("%-12s %s (%dx%d)\n", "truth", *truth, h, w)
	fmt.Printf("%-12s %10s\n", "metric", "value")
	fmt.Printf("%-12s %10s\n", "dice", show(r.Dice))
	fmt.Printf("%-12s %10s  px, 95th pct of both directions pooled (MedPy hd95)\n", "hd95_pooled", show(r.HD95Pooled))
	fmt.Printf("%-12s %10s  px, max of the two directed 95th pcts (BraTS, MONAI)\n", "hd95_max", show(r.HD95Max))
	fmt.Printf("%-12s %10s  px, mean over both boundaries' pixels\n", "avd_pooled", show(r.AVDPooled))
	fmt.Printf("%-12s %10s  px, mean of the two directed means (MedPy assd)\n", "avd_mean", show(r.AVDMean))
	fmt.Println(policy)
	return nil
}
