package kernels

import (
	"reflect"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
)

// TestUnlimitWorkers checks that UnlimitWorkers sets simplego's pool to -1 (unlimited) and
// nothing else: the pool's parallelism is read back through reflection, and a second backend
// keeps its default.
func TestUnlimitWorkers(t *testing.T) {
	newBackend := func() *simplego.Backend {
		b, err := simplego.New("ops_parallel")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Finalize)
		return b.(*simplego.Backend)
	}
	parallelism := func(b *simplego.Backend) int64 {
		return reflect.ValueOf(b).Elem().FieldByName("workers").FieldByName("maxParallelism").Int()
	}
	a, b := newBackend(), newBackend()
	if err := CanUnlimitWorkers(); err != nil {
		t.Fatal(err)
	}
	before := parallelism(b)
	if before <= 0 {
		t.Fatalf("default parallelism %d, want the number of CPUs", before)
	}
	if err := UnlimitWorkers(a); err != nil {
		t.Fatal(err)
	}
	if got := parallelism(a); got != -1 {
		t.Fatalf("parallelism %d after UnlimitWorkers, want -1", got)
	}
	if got := parallelism(b); got != before {
		t.Fatalf("the other backend's parallelism changed from %d to %d", before, got)
	}
}
