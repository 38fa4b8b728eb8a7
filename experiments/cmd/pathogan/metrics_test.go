package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeMaskNpy writes an h×w uint8 mask as a version 1.0 .npy file.
func writeMaskNpy(t *testing.T, path string, m []uint8, h, w int) {
	t.Helper()
	dict := fmt.Sprintf("{'descr': '|u1', 'fortran_order': False, 'shape': (%d, %d), }", h, w)
	dict += strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	b.WriteString(dict)
	b.Write(m)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsCommand(t *testing.T) {
	dir := t.TempDir()
	const n = 10
	// Truth: filled square rows/cols 2..6; prediction: its corner pixel (2,2).
	// Worked out in pathogan/metrics TestEvaluate: Dice 2/26, HD95Max
	// 5 + .25(√32−5), HD95Pooled 5 + .2(√32−5).
	truth := make([]uint8, n*n)
	for y := 2; y <= 6; y++ {
		for x := 2; x <= 6; x++ {
			truth[y*n+x] = 1
		}
	}
	pred := make([]uint8, n*n)
	pred[2*n+2] = 1
	pp, tp, ep := filepath.Join(dir, "p.npy"), filepath.Join(dir, "t.npy"), filepath.Join(dir, "e.npy")
	writeMaskNpy(t, pp, pred, n, n)
	writeMaskNpy(t, tp, truth, n, n)
	writeMaskNpy(t, ep, make([]uint8, n*n), n, n)

	out := capture(t, func() error { return runMetrics([]string{"--pred", pp, "--truth", tp, "--json"}) })
	var got map[string]*float64
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"avd_mean", "avd_pooled", "dice", "hd95_max", "hd95_pooled"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	for k, want := range map[string]float64{"dice": 2. / 26, "hd95_max": 5 + .25*(math.Sqrt(32)-5), "hd95_pooled": 5 + .2*(math.Sqrt(32)-5)} {
		if got[k] == nil || math.Abs(*got[k]-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}

	// Empty prediction under nan: distances are null, Dice 0.
	out = capture(t, func() error { return runMetrics([]string{"--json", "--pred", ep, "--truth", tp, "--empty", "nan"}) })
	got = nil
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got["dice"] == nil || *got["dice"] != 0 || got["hd95_max"] != nil || got["avd_mean"] != nil {
		t.Errorf("empty prediction: %s", out)
	}
	// Under worst, 373.13; the table prints the policy line.
	out = capture(t, func() error { return runMetrics([]string{"--pred", ep, "--truth", tp, "--empty", "worst"}) })
	if !strings.Contains(out, "373.1300") || !strings.Contains(out, "empty masks: worst") {
		t.Errorf("worst table:\n%s", out)
	}
	out = capture(t, func() error { return runMetrics([]string{"--pred", ep, "--truth", tp, "--empty", "skip"}) })
	if !strings.Contains(out, "n/a") || !strings.Contains(out, "empty masks: skip") {
		t.Errorf("skip table:\n%s", out)
	}

	// Errors: sizes differ, unknown policy, missing flag.
	small := filepath.Join(dir, "s.npy")
	writeMaskNpy(t, small, make([]uint8, 6), 2, 3)
	for _, args := range [][]string{
		{"--pred", small, "--truth", tp},
		{"--pred", pp, "--truth", tp, "--empty", "zero"},
		{"--pred", pp},
	} {
		if err := runMetrics(args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
