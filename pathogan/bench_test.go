package pathogan

import (
	"testing"
)

// benchmarkStep times full training steps (G and D updates) of a preset at
// batch 4 on the Go backend, after one warm-up step that builds the graph.
// Run: go test ./pathogan -run NONE -bench TrainStep -benchtime 5x
func benchmarkStep(b *testing.B, preset string) {
	cfg, err := Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(testBackend(b), cfg, 1000)
	if err != nil {
		b.Fatal(err)
	}
	xA, xB := randomBatch(cfg, 1), randomBatch(cfg, 2)
	if _, err := tr.Step(xA, xB); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Step(xA, xB); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/step")
}

func BenchmarkTrainStepTiny(b *testing.B)  { benchmarkStep(b, "tiny") }
func BenchmarkTrainStepMini(b *testing.B)  { benchmarkStep(b, "mini") }
func BenchmarkTrainStepSmall(b *testing.B) { benchmarkStep(b, "small") }
