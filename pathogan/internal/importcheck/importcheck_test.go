package importcheck_test

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	_ "github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/internal/kernels"
	_ "github.com/pathogan-go/pathogan/pathogan/nn"
	_ "github.com/pathogan-go/pathogan/pathogan/unet"
)

// ourGradients lists the entries of GoMLX's gradient registry whose function comes from this
// module, as "NodeType: function".
func ourGradients() []string {
	var out []string
	for nt, fn := range graph.VJPRegistration {
		if fn == nil {
			continue
		}
		name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		if strings.Contains(name, "github.com/pathogan-go/pathogan") {
			out = append(out, nt.String()+": "+name)
		}
	}
	slices.Sort(out)
	return out
}

// TestImportPatchesNothing checks that importing pathogan, pathogan/nn and pathogan/unet (and,
// through them, pathogan/backend) leaves GoMLX's gradient registry and simplego's executor table
// as GoMLX made them, and that creating the Go backend is what changes them.
func TestImportPatchesNothing(t *testing.T) {
	if got := ourGradients(); len(got) > 0 {
		t.Errorf("after import, GoMLX's gradient registry holds pathogan gradients: %q", got)
	}
	if got := kernels.ForeignExecutors(); len(got) > 0 {
		t.Errorf("after import, simplego's executor table holds other executors: %q", got)
	}
	if err := kernels.Status(); err == nil {
		t.Errorf("after import, kernels.Status says installed")
	}
	if t.Failed() {
		return
	}

	// Several backends created at once: the installation runs once and is race-free (go test -race).
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			b, err := backend.NewGoBackend("")
			if err == nil {
				err = backend.KernelsStatus()
				b.Finalize()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("backend %d: %v", i, err)
		}
	}
	grads := ourGradients()
	for _, want := range []string{"ConvGeneral", "DotGeneral", "Expm1"} {
		if !slices.ContainsFunc(grads, func(s string) bool { return strings.HasPrefix(s, want+":") }) {
			t.Errorf("after NewGoBackend, no pathogan gradient for %s (have %q)", want, grads)
		}
	}
	execs := kernels.ForeignExecutors()
	for _, want := range []string{"ConvGeneral", "DotGeneral"} {
		if !slices.ContainsFunc(execs, func(s string) bool { return strings.HasPrefix(s, want+":") }) {
			t.Errorf("after NewGoBackend, simplego's %s executor is still its own (replaced: %q)", want, execs)
		}
	}
}
