package kernels

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/pathogan-go/pathogan/pathogan/internal/gomlxcheck"
	"github.com/pkg/errors"
)

// UnlimitWorkers sets the worker pool of a simplego backend to unlimited parallelism, which
// simplego's "parallelism=-1" option also does, without the line that option prints on
// stdout. With an unlimited pool, simplego's parallel executor starts every op as soon as its
// inputs are ready, and an op that splits its own work (simplego's matmuls and unary ops) never
// waits for a free slot, so the pool cannot deadlock (with a limited pool it does: see package
// backend's doc, item 8). The pool's parallelism is an unexported field, written through its
// offset after checking the GoMLX version and that the field has the name and type of v0.26.0;
// on any difference nothing is written and the error says why. Call it before the backend runs
// anything.
func UnlimitWorkers(b *simplego.Backend) error {
	off, err := maxParallelismOffset()
	if err != nil {
		return err
	}
	*(*int)(unsafe.Add(unsafe.Pointer(b), off)) = -1
	return nil
}

// CanUnlimitWorkers returns nil when UnlimitWorkers can set the pool, else the reason.
func CanUnlimitWorkers() error {
	_, err := maxParallelismOffset()
	return err
}

// maxParallelismOffset is the offset of Backend.workers.maxParallelism in simplego.Backend,
// worked out (with the checks) once per process.
var maxParallelismOffset = sync.OnceValues(findMaxParallelismOffset)

func findMaxParallelismOffset() (uintptr, error) {
	if err := gomlxcheck.Check(); err != nil {
		return 0, err
	}
	bt := reflect.TypeFor[simplego.Backend]()
	wf, ok := bt.FieldByName("workers")
	if !ok || wf.Type.Kind() != reflect.Struct || wf.Type.Name() != "workersPool" || wf.Type.PkgPath() != bt.PkgPath() {
		return 0, errors.New("simplego.Backend has no workers field of type workersPool")
	}
	mf, ok := wf.Type.FieldByName("maxParallelism")
	if !ok || mf.Type != reflect.TypeFor[int]() {
		return 0, errors.New("simplego's workersPool has no maxParallelism field of type int")
	}
	return wf.Offset + mf.Offset, nil
}
