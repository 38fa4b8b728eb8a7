package gemm

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestChoice runs this test binary again with each PATHOGAN_BLAS value and checks what Impl
// reports: "go" is this package's own product (its assembly kernels where the CPU runs them,
// never a C library), "purego" is the kernel without assembly.
func TestChoice(t *testing.T) {
	if os.Getenv("GEMM_CHOICE_CHILD") == "1" {
		os.Stdout.WriteString("impl=" + Impl() + "\n")
		return
	}
	if testing.Short() {
		t.Skip("starts the test binary once per setting")
	}
	wantGo := "purego (PATHOGAN_BLAS=go: no AVX2/FMA)"
	if ks := bestKernels(); ks != nil {
		wantGo = "own " + ks.name + " kernels (PATHOGAN_BLAS=go)"
	}
	for _, tc := range []struct{ choice, want string }{
		{"purego", "purego (PATHOGAN_BLAS=purego)"},
		{"go", wantGo},
		{"avx9", "purego (PATHOGAN_BLAS=avx9: "},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChoice$")
		cmd.Env = append(os.Environ(), "GEMM_CHOICE_CHILD=1", "PATHOGAN_BLAS="+tc.choice)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("PATHOGAN_BLAS=%s: %v\n%s", tc.choice, err, out)
		}
		_, got, ok := strings.Cut(string(out), "impl=")
		got, _, _ = strings.Cut(got, "\n")
		if !ok || !strings.HasPrefix(got, tc.want) {
			t.Errorf("PATHOGAN_BLAS=%s: Impl() = %q, want %q", tc.choice, got, tc.want)
		}
	}
}
