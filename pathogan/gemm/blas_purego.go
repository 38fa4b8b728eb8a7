//go:build (linux || darwin || freebsd) && (amd64 || arm64)

package gemm

import (
	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
)

// loadBLAS opens the shared library and binds cblas_sgemm, setting OpenBLAS to one thread when
// the library has openblas_set_num_threads.
func loadBLAS(name string) (err error) {
	lib, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return errors.Wrapf(err, "loading %s", name)
	}
	if _, err := purego.Dlsym(lib, "cblas_sgemm"); err != nil {
		return errors.Errorf("%s has no cblas_sgemm", name)
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("binding %s: %v", name, r)
			blasSgemm = nil
		}
	}()
	if _, err := purego.Dlsym(lib, "openblas_set_num_threads"); err == nil {
		var setThreads func(int32)
		purego.RegisterLibFunc(&setThreads, lib, "openblas_set_num_threads")
		setThreads(1)
	}
	purego.RegisterLibFunc(&blasSgemm, lib, "cblas_sgemm")
	return nil
}
