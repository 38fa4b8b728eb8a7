package backend

import (
	"os"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestParallelExecutorDoesNotDeadlock runs eight independent branches of Erf on large tensors
// (simplego's Erf splits itself over its worker pool while its op holds a slot) on the default
// Go backend. With simplego's limited pool (2×NumCPU slots) every slot can end up held by an op
// waiting for a slot for its chunks, and the execution never ends; the default's unlimited pool
// never waits. The test fails if the execution takes more than a minute.
func TestParallelExecutorDoesNotDeadlock(t *testing.T) {
	config := "go"
	if c := os.Getenv("PATHOGAN_POOL_TEST_CONFIG"); c != "" {
		config = c // For checking that the test fails: "go:ops_parallel" (the limited pool).
	}
	t.Setenv(backends.ConfigEnvVar, config)
	b, _, err := New()
	if err != nil {
		t.Fatal(err)
	}
	const branches, size = 8, 1 << 18
	xs := make([]any, branches)
	for i := range xs {
		xs[i] = tensors.FromShape(shapesMake(size))
	}
	exec := MustNewExec(b, func(in []*Node) *Node {
		sum := ReduceAllSum(Erf(in[0]))
		for _, x := range in[1:] {
			sum = Add(sum, ReduceAllSum(Erf(x)))
		}
		return sum
	})
	done := make(chan error, 1)
	go func() {
		for range 20 {
			if _, err := exec.Exec(xs...); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s: 20 executions of %d parallel Erf branches did not finish in a minute (deadlocked worker pool)", config, branches)
	}
}
