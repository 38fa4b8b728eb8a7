package evaluate

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/data"
)

// writeNpy writes a C-ordered .npy (version 1.0) holding raw.
func writeNpy(t *testing.T, path, descr string, shape []int, raw []byte) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s,), }", descr, strings.Join(dims, ", "))
	for (10+len(dict)+1)%64 != 0 {
		dict += " "
	}
	dict += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
	b = append(append(b, dict...), raw...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func float32Bytes(v []float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// The hand-made set: two slices of 2x3 pixels and 2 channels, [slice][pixel]
// with pixels in row-major order and channels interleaved.
var (
	inpX = [][]float32{
		{0.2, 0.4, 0.9, -0.5, 0.7, -0.3, 0, 0, 0.4, 0, 0, 0},
		{-0.6, 0.8, 0.1, 0.2, 0.3, -0.2, 0, 0, 0, 0, 0, 0},
	}
	inpLabels = [][]uint8{{0, 1, 4, 0, 0, 0}, {2, 0, 0, 0, 0, 0}}
	// inpTruth is inpX with the tumour pixels replaced.
	inpTruth = [][]float32{
		{0.2, 0.4, 0.3, 0.1, 0.2, 0.5, 0, 0, 0.4, 0, 0, 0},
		{0.0, 0.1, 0.1, 0.2, 0.3, -0.2, 0, 0, 0, 0, 0, 0},
	}
)

// writeInpaintSet writes the hand-made set into dir, with healthy.npy when
// healthy is set, and opens it.
func writeInpaintSet(t *testing.T, dir string, healthy bool) *data.Set {
	t.Helper()
	var x, y []float32
	var lab []byte
	for i := range inpX {
		x, y = append(x, inpX[i]...), append(y, inpTruth[i]...)
		lab = append(lab, inpLabels[i]...)
	}
	writeNpy(t, filepath.Join(dir, data.ImagesFile), "<f4", []int{2, 2, 3, 2}, float32Bytes(x))
	writeNpy(t, filepath.Join(dir, data.LabelsFile), "|u1", []int{2, 2, 3}, lab)
	if healthy {
		writeNpy(t, filepath.Join(dir, data.HealthyFile), "<f4", []int{2, 2, 3, 2}, float32Bytes(y))
	}
	csv := "index,patient,grade,split,slice,class,tumour_pixels\n0,P1,HGG,test,60,pathological,2\n1,P1,HGG,test,61,pathological,1\n"
	if err := os.WriteFile(filepath.Join(dir, data.SlicesFile), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, data.SummaryFile), []byte(`{"source": "hand-made"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := data.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

func checkMAE(t *testing.T, what string, got []float64, gotMean float64, want []float64) {
	t.Helper()
	mean := 0.0
	for c := range want {
		mean += want[c] / float64(len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
	for c := range want {
		if math.Abs(got[c]-want[c]) > 1e-6 {
			t.Errorf("%s[%d] = %.6f, want %.6f", what, c, got[c], want[c])
		}
	}
	if math.Abs(gotMean-mean) > 1e-6 {
		t.Errorf("%s mean = %.6f, want %.6f", what, gotMean, mean)
	}
}

// TestScoreInpainting checks the scores of fake HealthyFuncs on the hand-made
// set against values worked out by hand.
func TestScoreInpainting(t *testing.T) {
	set := writeInpaintSet(t, t.TempDir(), true)
	if !set.HasHealthy() {
		t.Fatal("the set has no healthy counterparts")
	}
	// T: slice 0 pixels 1, 2; slice 1 pixel 0. Brain outside T: slice 0
	// pixels 0, 4 (channel 1 is 0 there), slice 1 pixels 1, 2.
	//
	// Baseline (independent of f): slice 0 fills T with (0.3, 0.2), the
	// means of pixels 0 and 4; slice 1 with (0.2, 0). Errors against y*:
	// channel 0 |0.3-0.3|, |0.3-0.2|, |0.2-0| = 0.3/3; channel 1
	// |0.2-0.1|, |0.2-0.5|, |0-0.1| = 0.5/3.
	baseline := []float64{0.1, 0.5 / 3}

	// Identity: ŷA = p̂B = x. Over T, |x - y*|: channel 0 0.6, 0.5, 0.6;
	// channel 1 0.6, 0.8, 0.7. Outside T, no change.
	identity := func(x []float32) ([]float32, []float32, error) {
		a, b := append([]float32(nil), x...), append([]float32(nil), x...)
		clear(x) // scribbling on the input must not change the score
		return a, b, nil
	}
	sc, err := ScoreInpainting(identity, set, []int{0, 1}, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Slices != 2 || sc.TumourPixels != 3 || sc.OutsidePixels != 4 || sc.Threshold != 0.4 {
		t.Errorf("identity: %d slices, %d tumour, %d outside pixels, threshold %v; want 2, 3, 4, 0.4", sc.Slices, sc.TumourPixels, sc.OutsidePixels, sc.Threshold)
	}
	checkMAE(t, "identity MAETumourInpainting", sc.MAETumourInpainting, sc.MeanTumourInpainting, []float64{1.7 / 3, 0.7})
	checkMAE(t, "identity MAETumour", sc.MAETumour, sc.MeanTumour, []float64{1.7 / 3, 0.7})
	checkMAE(t, "identity MAEOutside", sc.MAEOutside, sc.MeanOutside, []float64{0, 0})
	checkMAE(t, "identity MAEBaseline", sc.MAEBaseline, sc.MeanBaseline, baseline)

	// Perfect inpainting p̂B = y*, and ŷA = y* + 0.1 everywhere (+0.5 on
	// the background, which is not scored): 0 over T for p̂B, 0.1 for ŷA
	// over T and outside it.
	perfect := func(x []float32) ([]float32, []float32, error) {
		var inp, out []float32
		for k := range len(x) / 12 {
			i := k % 2 // the slices come in the order 0, 1, 0, 1, ...
			inp = append(inp, inpTruth[i]...)
			for p, v := range inpTruth[i] {
				if inpX[i][p/2*2] == 0 && inpX[i][p/2*2+1] == 0 {
					v += 0.5
				} else {
					v += 0.1
				}
				out = append(out, v)
			}
		}
		return inp, out, nil
	}
	sc, err = ScoreInpainting(perfect, set, []int{0, 1}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	checkMAE(t, "perfect MAETumourInpainting", sc.MAETumourInpainting, sc.MeanTumourInpainting, []float64{0, 0})
	checkMAE(t, "perfect MAETumour", sc.MAETumour, sc.MeanTumour, []float64{0.1, 0.1})
	checkMAE(t, "perfect MAEOutside", sc.MAEOutside, sc.MeanOutside, []float64{0.1, 0.1})
	checkMAE(t, "perfect MAEBaseline", sc.MAEBaseline, sc.MeanBaseline, baseline)
	if sc.DetailInpainting != 1 {
		t.Errorf("perfect DetailInpainting = %v, want 1 (p̂B is the truth)", sc.DetailInpainting)
	}
	checkMAE(t, "perfect MAEOutsideInpainting", sc.MAEOutsideInpainting, sc.MeanOutsideInpainting, []float64{0, 0})
	if sc.RelevancyPull != 0 {
		t.Errorf("perfect RelevancyPull = %v, want 0 (p̂B equals x outside T)", sc.RelevancyPull)
	}

	// p̂B = y*, but off x by 1 at slice 0's healthy pixel 0 (above that slice's tumour
	// mean |x - p̂B| of 0.625) and by 0.2 at slice 1's pixel 1 (below its 0.65): one of
	// the four healthy pixels pulls, and p̂B errs by (1 + 0.2) / 4 outside T.
	offOutside := func(x []float32) ([]float32, []float32, error) {
		inp, out, err := perfect(x)
		for k := range len(x) / 12 {
			p, d := 0, float32(1)
			if k%2 == 1 {
				p, d = 1, 0.2
			}
			inp[k*12+2*p] += d
			inp[k*12+2*p+1] += d
		}
		return inp, out, err
	}
	sc, err = ScoreInpainting(offOutside, set, []int{0, 1}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	checkMAE(t, "offOutside MAEOutsideInpainting", sc.MAEOutsideInpainting, sc.MeanOutsideInpainting, []float64{0.3, 0.3})
	if math.Abs(sc.RelevancyPull-0.25) > 1e-9 {
		t.Errorf("offOutside RelevancyPull = %v, want 0.25", sc.RelevancyPull)
	}
	checkMAE(t, "offOutside MAETumourInpainting", sc.MAETumourInpainting, sc.MeanTumourInpainting, []float64{0, 0})

	// More slices than one batch: the same pooled means.
	idx := []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}
	calls := 0
	sc, err = ScoreInpainting(func(x []float32) ([]float32, []float32, error) { calls++; return perfect(x) }, set, idx, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || sc.Slices != 12 || sc.TumourPixels != 18 || sc.OutsidePixels != 24 {
		t.Errorf("12 slices: %d calls, %d slices, %d tumour, %d outside pixels", calls, sc.Slices, sc.TumourPixels, sc.OutsidePixels)
	}
	checkMAE(t, "batched MAETumour", sc.MAETumour, sc.MeanTumour, []float64{0.1, 0.1})
	checkMAE(t, "batched MAEBaseline", sc.MAEBaseline, sc.MeanBaseline, baseline)

	// Errors: wrong sizes, no healthy.npy.
	short := func(x []float32) ([]float32, []float32, error) { return x, x[:len(x)-1], nil }
	if _, err := ScoreInpainting(short, set, []int{0}, 0.5); err == nil {
		t.Error("short output: no error")
	}
	noHealthy := writeInpaintSet(t, t.TempDir(), false)
	_, err = ScoreInpainting(identity, noHealthy, []int{0, 1}, 0.5)
	if err == nil || !strings.Contains(err.Error(), data.HealthyFile) || !strings.Contains(err.Error(), "pathogan phantom") {
		t.Errorf("set without %s: %v", data.HealthyFile, err)
	}
}

// TestInpaintDetail checks the detail ratios on a 4×5 slice of two channels whose truth is a
// checkerboard: the truth itself scores 1, twice its contrast 2, a constant 0 and a blur in
// between; pairs count only inside the brain (p̂B) or the tumour (ŷA).
func TestInpaintDetail(t *testing.T) {
	const h, w, c = 4, 5, 2
	truth := make([]float32, h*w*c)
	for p := range h * w {
		v := float32((p/w + p%w) % 2)
		truth[p*c], truth[p*c+1] = v, -v/2
	}
	brain := make([]bool, h*w)
	lab := make([]uint8, h*w)
	for p := range brain {
		brain[p] = p%w != 0 // the first column is background
		if p/w >= 1 && p/w <= 2 && p%w >= 2 && p%w <= 3 {
			lab[p] = 1 // a 2×2 tumour
		}
	}
	scaled := func(k float32) []float32 {
		out := make([]float32, len(truth))
		for i, v := range truth {
			out[i] = k * v
		}
		return out
	}
	blur := make([]float32, len(truth)) // mean of each pixel and its right neighbour
	for p := range h * w {
		q := p
		if p%w+1 < w {
			q = p + 1
		}
		for ch := range c {
			blur[p*c+ch] = (truth[p*c+ch] + truth[q*c+ch]) / 2
		}
	}
	bright := scaled(1) // background pixels are not brain: they must not count
	for p := range h * w {
		if !brain[p] {
			bright[p*c], bright[p*c+1] = 5, -5
		}
	}
	for _, tc := range []struct {
		name       string
		inp, out   []float32
		brain, tum float64
	}{
		{"truth", truth, truth, 1, 1},
		{"twice", scaled(2), scaled(2), 2, 2},
		{"constant", scaled(0), scaled(0), 0, 0},
		{"p̂B the truth, ŷA constant", truth, scaled(0), 1, 0},
		{"the truth with a bright background", bright, truth, 1, 1},
	} {
		var d detailSums
		d.add(tc.inp, tc.out, truth, brain, lab, h, w, c)
		if got := ratioOrZero(d.inpainting, d.truthBrain); math.Abs(got-tc.brain) > 1e-12 {
			t.Errorf("%s: brain detail %v, want %v", tc.name, got, tc.brain)
		}
		if got := ratioOrZero(d.output, d.truthTumour); math.Abs(got-tc.tum) > 1e-12 {
			t.Errorf("%s: tumour detail %v, want %v", tc.name, got, tc.tum)
		}
	}
	var d detailSums
	d.add(blur, blur, truth, brain, lab, h, w, c)
	if got := ratioOrZero(d.inpainting, d.truthBrain); !(got > 0 && got < 0.5) {
		t.Errorf("blur: brain detail %v, want in (0, 0.5)", got)
	}
	// A truth without contrast in the region gives 0, not NaN.
	var flat detailSums
	flat.add(truth, truth, make([]float32, len(truth)), brain, lab, h, w, c)
	if got := ratioOrZero(flat.output, flat.truthTumour); got != 0 {
		t.Errorf("flat truth: tumour detail %v, want 0", got)
	}
}
