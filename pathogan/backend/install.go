package backend

import (
	"github.com/pathogan-go/pathogan/pathogan/internal/gradients"
	"github.com/pathogan-go/pathogan/pathogan/internal/kernels"
)

// Install patches GoMLX, process-wide, with this package's fixes: it registers the gradients
// (see RegisterGradients) and puts the float32 kernels into the Go backend's executor table
// (they run only the graphs of GoBackends; other simplego backends keep simplego's executors).
// NewGoBackend calls it, and New/NewWithConfig call RegisterGradients for every other backend;
// importing this package (or a model package) patches nothing.
//
// Before installing anything it checks that the binary was built with GoMLX v0.26.0 and that the
// structs the kernels read have the expected fields. On a mismatch it installs nothing (of the
// gradients or of the kernels, whichever is affected)
// and returns why; GoMLX's own gradients and executors then run (slower, and without the
// gradients GoMLX lacks), and the backends' descriptions say so. It is idempotent and safe for
// concurrent use: the first call decides and later calls return the same result. It must not run
// while graphs are built or executed elsewhere in the process, so call it (or create the backend)
// first.
func Install() error {
	gErr := gradients.Install()
	kErr := kernels.Install()
	if gErr != nil {
		return gErr
	}
	return kErr
}

// RegisterGradients adds to graph.VJPRegistration the gradients that GoMLX v0.26.0 lacks and a
// conv GAN needs (Expm1, Rsqrt, Clamp, Pad, Reverse, ReduceProduct, Identity; zero for Round,
// Floor, Ceil, Sign), and replaces the DotGeneral/Dot gradients with matmul-based ones and the
// ConvGeneral gradient with one that is correct for even kernels, any padding and input dilation.
// The registrations are global (graphs of every backend, XLA included). It checks the GoMLX
// version first and registers nothing on another version, returning why. It is idempotent and
// safe for concurrent use, but must not run while graphs are being built. The backend
// constructors of this package call it.
func RegisterGradients() error { return gradients.Install() }

// KernelsStatus reports whether this package's float32 kernels run inside the Go backend: nil
// when installed, else why not (not yet installed, or a GoMLX version or layout mismatch).
func KernelsStatus() error { return kernels.Status() }

// KernelsDescription says in a few words which float32 kernels the Go backend runs, e.g.
// "kernels (matmul: openblas (libopenblas.so.0))", or why simplego's run instead.
func KernelsDescription() string { return kernels.Description() }

// fixesDescription describes what this package installed, e.g. "pathogan fixes and kernels
// (matmul: avx512)", with the reasons for whatever it could not install.
func fixesDescription() string {
	s := "pathogan fixes and " + kernels.Description()
	if err := gradients.Status(); err != nil {
		s += " and GoMLX's gradients (" + err.Error() + ")"
	}
	return s
}

// installGradientsNote registers the gradients for a backend other than the Go one and returns
// a note for Info when that failed ("" otherwise).
func installGradientsNote() string {
	if err := gradients.Install(); err != nil {
		return err.Error()
	}
	return ""
}

// EnableOpProfile wraps every executor of the Go backend (process-wide) so that each op's wall
// time is summed per op type, output shape and operand shapes; OpProfile reports the sums. It
// costs about a microsecond per op, so it is meant for benchmarks (pathogan bench --op-profile),
// not training.
// It returns an error, and profiles nothing, when the kernels are not installed (create a Go
// backend first).
func EnableOpProfile() error { return kernels.EnableOpProfile() }

// OpProfileEntry is one line of OpProfile.
type OpProfileEntry = kernels.OpProfileEntry

// OpProfile returns the op timings gathered since EnableOpProfile (or the last reset), the
// slowest first, and resets them.
func OpProfile() []OpProfileEntry { return kernels.OpProfile() }
