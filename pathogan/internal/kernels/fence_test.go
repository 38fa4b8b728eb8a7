package kernels_test

import (
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/internal/kernels"
)

func rand32(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

func conv(in []*Node) *Node { return backend.Conv2D(in[0], in[1], 1, backend.PadSame) }

// runConv runs a float32 3x3 convolution on b and finalizes the graph.
func runConv(t *testing.T, b backends.Backend) []float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	exec, err := NewExec(b, conv)
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(rand32(rng, 2, 6, 6, 3), rand32(rng, 3, 3, 3, 4))
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return tensors.MustCopyFlatData[float32](out[0])
}

// TestWhichConvRuns checks that float32 convolutions run on simplego's executor with
// conv=native and on a plain simplego backend, and on the kernels with conv=kernel.
func TestWhichConvRuns(t *testing.T) {
	kernelB, err := backend.NewGoBackend("conv=kernel")
	if err != nil {
		t.Fatal(err)
	}
	if err := kernels.Status(); err != nil {
		t.Fatalf("kernels not installed: %v", err)
	}
	nativeB, err := backend.NewGoBackend("conv=native")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	calls, restore := kernels.CountBuiltinConv()
	defer restore()
	want := runConv(t, kernelB)
	if n := calls.Load(); n != 0 {
		t.Errorf("conv=kernel: simplego's ConvGeneral ran %d times, want 0", n)
	}
	for _, c := range []struct {
		name string
		b    backends.Backend
	}{{"conv=native", nativeB}, {"plain simplego", raw}} {
		calls.Store(0)
		got := runConv(t, c.b)
		if calls.Load() == 0 {
			t.Errorf("%s: simplego's ConvGeneral did not run", c.name)
		}
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%s: output %d is %g, the kernels' %g", c.name, i, got[i], want[i])
			}
		}
	}
}

// TestPlansReleased checks that a graph's plans go when it is finalized, and when it is
// dropped without being finalized (through the garbage collector).
func TestPlansReleased(t *testing.T) {
	b, err := backend.NewGoBackend("")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x, k := rand32(rng, 1, 5, 5, 2), rand32(rng, 3, 3, 2, 2)
	builders0, plans0 := kernels.Adopted()

	exec, err := NewExec(b, conv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Exec(x, k); err != nil {
		t.Fatal(err)
	}
	if builders, plans := kernels.Adopted(); builders <= builders0 || plans <= plans0 {
		t.Fatalf("after one execution: %d builders, %d plans; before %d, %d", builders, plans, builders0, plans0)
	}
	exec.Finalize()
	if builders, plans := kernels.Adopted(); builders != builders0 || plans != plans0 {
		t.Errorf("after Finalize: %d builders, %d plans; want %d, %d", builders, plans, builders0, plans0)
	}

	func() {
		exec, err := NewExec(b, conv)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.Exec(x, k); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		builders, plans := kernels.Adopted()
		if builders == builders0 && plans == plans0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a dropped graph's plans were not released: %d builders, %d plans; want %d, %d", builders, plans, builders0, plans0)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSameLayoutComparesTypes checks that a mirror whose field has the right kind but another
// type is rejected.
func TestSameLayoutComparesTypes(t *testing.T) {
	type myInt int
	type a struct {
		x int
		y []int
	}
	type b struct {
		x myInt
		y []int
	}
	type c struct {
		x int
		y []int
	}
	if err := kernels.SameLayout(reflect.TypeFor[a](), reflect.TypeFor[b]()); err == nil {
		t.Errorf("int and myInt fields accepted as the same layout")
	}
	if err := kernels.SameLayout(reflect.TypeFor[a](), reflect.TypeFor[c]()); err != nil {
		t.Errorf("identical layouts rejected: %v", err)
	}
}

// TestReadFieldErrors checks that readField returns errors instead of panicking.
func TestReadFieldErrors(t *testing.T) {
	type data struct{ axes []int }
	if _, err := kernels.ReadField(&data{}, "strides"); err == nil {
		t.Errorf("missing field: no error")
	}
	if _, err := kernels.ReadField(data{}, "axes"); err == nil {
		t.Errorf("non-pointer: no error")
	}
	if _, err := kernels.ReadField((*data)(nil), "axes"); err == nil {
		t.Errorf("nil pointer: no error")
	}
	if _, err := kernels.ReadField(nil, "axes"); err == nil {
		t.Errorf("nil: no error")
	}
	v, err := kernels.ReadField(&data{axes: []int{1, 2}}, "axes")
	if err != nil || v.Len() != 2 {
		t.Errorf("ReadField(axes) = %v, %v", v, err)
	}
}
