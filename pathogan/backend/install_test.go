package backend

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/pathogan-go/pathogan/pathogan/internal/gomlxcheck"
	"github.com/pathogan-go/pathogan/pathogan/internal/gradients"
	"github.com/pathogan-go/pathogan/pathogan/internal/kernels"
)

// mismatchEnv marks the child process of TestVersionMismatchFallsBack.
const mismatchEnv = "PATHOGAN_TEST_GOMLX_MISMATCH"

// TestVersionMismatchFallsBack simulates a binary built with another GoMLX version (through
// gomlxcheck.VersionFunc) and checks that the Go backend installs nothing, still computes
// convolutions and matrix products right, and says why in its description. Installation happens
// once per process, so the check runs in a child process (this test binary, this test only).
func TestVersionMismatchFallsBack(t *testing.T) {
	if os.Getenv(mismatchEnv) == "1" {
		mismatchChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestVersionMismatchFallsBack$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), mismatchEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestVersionMismatchFallsBack") {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	t.Logf("child process:\n%s", out)
}

func mismatchChild(t *testing.T) {
	if kernels.Status() == nil || gradients.Status() == nil {
		t.Fatal("something was installed before the test started")
	}
	gomlxcheck.VersionFunc = func() (string, string, error) { return "v0.27.0", "simulated", nil }
	b, info, err := NewWithConfig("go")
	if err != nil {
		t.Fatalf("NewWithConfig(go): %v", err)
	}
	defer b.Finalize()
	gb := b.(*GoBackend)
	if err := Install(); err == nil || !strings.Contains(err.Error(), "v0.27.0") {
		t.Errorf("Install() = %v, want the version mismatch", err)
	}
	if gb.ConvMode() != ConvIm2Col {
		t.Errorf("conv mode %s, want the im2col fallback", gb.ConvMode())
	}
	for name, s := range map[string]string{"Info": info.String(), "Description": gb.Description()} {
		if !strings.Contains(s, "GoMLX is v0.27.0") || !strings.Contains(s, "simplego's kernels") ||
			!strings.Contains(s, "GoMLX's gradients") {
			t.Errorf("%s does not say why nothing was installed: %q", name, s)
		}
		t.Logf("%s: %s", name, s)
	}
	if got := kernels.ForeignExecutors(); len(got) > 0 {
		t.Errorf("executors replaced despite the mismatch: %q", got)
	}
	if len(gradients.Added()) > 0 {
		t.Errorf("gradients added despite the mismatch: %v", gradients.Added())
	}

	// The backend still computes: a float32 strided convolution and a matrix product.
	rng := rand.New(rand.NewPCG(7, 8))
	x, k := randTensor(rng, -1, 1, 2, 7, 7, 3), randTensor(rng, -1, 1, 3, 3, 3, 4)
	got := MustExecOnce(b, func(x, k *Node) *Node {
		return ConvertDType(Conv2D(ConvertDType(x, dtypes.Float32), ConvertDType(k, dtypes.Float32), 2, PadSame), dtypes.Float64)
	}, x, k)
	want, dims := conv2DRef(flat64(t, x), []int{2, 7, 7, 3}, flat64(t, k), []int{3, 3, 3, 4}, 2, [2][2]int{{1, 1}, {1, 1}})
	if d := got.Shape().Dimensions; len(d) != 4 || d[1] != dims[1] || d[2] != dims[2] {
		t.Fatalf("conv output %v, want %v", d, dims)
	}
	assertClose(t, "conv after mismatch", flat64(t, got), want, 1e-5)
	a, m := randTensor(rng, -1, 1, 5, 6), randTensor(rng, -1, 1, 6, 3)
	gotM := MustExecOnce(b, func(a, m *Node) *Node {
		return ConvertDType(Dot(ConvertDType(a, dtypes.Float32), ConvertDType(m, dtypes.Float32)), dtypes.Float64)
	}, a, m)
	af, mf := flat64(t, a), flat64(t, m)
	wantM := make([]float64, 5*3)
	for i := range 5 {
		for j := range 3 {
			for l := range 6 {
				wantM[i*3+j] += af[i*6+l] * mf[l*3+j]
			}
		}
	}
	assertClose(t, "matmul after mismatch", flat64(t, gotM), wantM, 1e-5)
}
