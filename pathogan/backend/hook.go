package backend

import (
	"reflect"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pathogan-go/pathogan/pathogan/gemm"
	"github.com/pkg/errors"
)

// This file installs this package's float32 kernels (kernels.go) as simplego's executors for
// ConvGeneral and DotGeneral, without changing GoMLX's source: simplego keeps its executors in an
// unexported table indexed by op type, reached here with go:linkname. The executors read the
// (exported) simplego.Node and simplego.Buffer types through mirror structs whose layout is
// checked field by field against GoMLX v0.26.0's with reflect before anything is installed; if it
// differs (another GoMLX version), nothing is installed and KernelsStatus says why.

// sgExecutor has the memory layout of simplego's nodeExecutor.
type sgExecutor func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname sgNodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var sgNodeExecutors [backends.OpTypeLast]sgExecutor

//go:linkname sgGetBufferForShape github.com/gomlx/gomlx/backends/simplego.(*Backend).getBufferForShape
func sgGetBufferForShape(b *simplego.Backend, shape shapes.Shape) *simplego.Buffer

// nodeMirror mirrors simplego.Node (v0.26.0).
type nodeMirror struct {
	builderIdx         int
	inputs             []*simplego.Node
	opType             backends.OpType
	shape              shapes.Shape
	builder            *simplego.Builder
	multiOutputsShapes []shapes.Shape
	multiOutputsNodes  []*simplego.Node
	isNodeSelectOutput bool
	selectOutputIdx    int
	data               any
}

// bufferMirror mirrors simplego.Buffer (v0.26.0).
type bufferMirror struct {
	shape shapes.Shape
	valid bool
	flat  any
}

func nodeOf(n *simplego.Node) *nodeMirror       { return (*nodeMirror)(unsafe.Pointer(n)) }
func bufferOf(b *simplego.Buffer) *bufferMirror { return (*bufferMirror)(unsafe.Pointer(b)) }

// sameLayout reports whether two struct types have the same fields (names, types, offsets).
func sameLayout(a, b reflect.Type) error {
	if a.Size() != b.Size() || a.NumField() != b.NumField() {
		return errors.Errorf("%s has %d fields (%d bytes), the mirror %d (%d bytes)", a, a.NumField(), a.Size(), b.NumField(), b.Size())
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		ta, tb := fa.Type.String(), fb.Type.String()
		if fa.Name != fb.Name || fa.Offset != fb.Offset || (ta != tb && fa.Type.Kind() != fb.Type.Kind()) {
			return errors.Errorf("%s field %d is %s %s at %d, the mirror's %s %s at %d", a, i, fa.Name, ta, fa.Offset, fb.Name, tb, fb.Offset)
		}
	}
	return nil
}

var (
	kernelsOnce sync.Once
	kernelsErr  error
	builtinConv sgExecutor
	builtinDot  sgExecutor
	// The node data types the conv and dot plans read fields from: any other type (another
	// GoMLX version) leaves the node to simplego's executor.
	convDataType = "*simplego.convNode"
	dotDataType  = "*simplego.dotGeneralNodeData"
)

// installKernels replaces simplego's ConvGeneral and DotGeneral executors with this package's
// float32 kernels (the originals still run every other dtype and grouped convolutions). It is
// idempotent and safe to call from several goroutines; the error says why nothing was installed.
func installKernels() error {
	kernelsOnce.Do(func() {
		if err := sameLayout(reflect.TypeOf(simplego.Node{}), reflect.TypeOf(nodeMirror{})); err != nil {
			kernelsErr = errors.WithMessage(err, "pathogan kernels not installed")
			return
		}
		if err := sameLayout(reflect.TypeOf(simplego.Buffer{}), reflect.TypeOf(bufferMirror{})); err != nil {
			kernelsErr = errors.WithMessage(err, "pathogan kernels not installed")
			return
		}
		builtinConv = sgNodeExecutors[backends.OpTypeConvGeneral]
		builtinDot = sgNodeExecutors[backends.OpTypeDotGeneral]
		if builtinConv == nil || builtinDot == nil {
			kernelsErr = errors.New("pathogan kernels not installed: simplego has no ConvGeneral/DotGeneral executor to replace")
			return
		}
		sgNodeExecutors[backends.OpTypeConvGeneral] = execConv
		sgNodeExecutors[backends.OpTypeDotGeneral] = execDot
		installElementwise()
	})
	return kernelsErr
}

// KernelsStatus reports whether this package's float32 convolution and matmul kernels run inside
// the Go backend, or why not.
func KernelsStatus() error {
	return installKernels()
}

// KernelsDescription says in a few words which float32 kernels the Go backend runs, e.g.
// "kernels (matmul: openblas (libopenblas.so.0))".
func KernelsDescription() string {
	if err := installKernels(); err != nil {
		return "simplego's kernels (" + err.Error() + ")"
	}
	return "kernels (matmul: " + gemm.Impl() + ")"
}

// newOutput returns a buffer for the node's output shape from simplego's buffer pool.
func newOutput(backend *simplego.Backend, node *simplego.Node) *simplego.Buffer {
	return sgGetBufferForShape(backend, nodeOf(node).shape)
}

// flat32 returns the float32 data of a buffer (nil when it is not float32).
func flat32(b *simplego.Buffer) []float32 {
	f, _ := bufferOf(b).flat.([]float32)
	return f
}

// readField reads an unexported field of a struct pointed to by the interface value.
func readField(data any, name string) reflect.Value {
	v := reflect.ValueOf(data).Elem().FieldByName(name)
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

func readInts(data any, name string) []int {
	v, _ := readField(data, name).Interface().([]int)
	return v
}

func readInt(data any, name string) int {
	return int(readField(data, name).Int())
}

// opStat accumulates the executions of one op type on one output shape.
type opStat struct {
	calls int
	nanos int64
}

var (
	opStatsMu   sync.Mutex
	opStats     map[string]*opStat
	opStatsOnce sync.Once
)

// EnableOpProfile wraps every executor of the Go backend so that each op's wall time is summed per
// op type and output shape; OpProfile reports the sums. It costs about a microsecond per op, so
// it is meant for benchmarks (pathogan bench --op-profile), not training.
func EnableOpProfile() error {
	if err := installKernels(); err != nil {
		return err
	}
	opStatsOnce.Do(func() {
		opStats = map[string]*opStat{}
		for i, ex := range sgNodeExecutors {
			if ex == nil {
				continue
			}
			opType := backends.OpType(i)
			sgNodeExecutors[i] = func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
				t0 := time.Now()
				out, err := ex(backend, node, inputs, owned)
				d := time.Since(t0)
				key := opType.String() + " " + nodeOf(node).shape.String()
				opStatsMu.Lock()
				st := opStats[key]
				if st == nil {
					st = &opStat{}
					opStats[key] = st
				}
				st.calls++
				st.nanos += d.Nanoseconds()
				opStatsMu.Unlock()
				return out, err
			}
		}
	})
	return nil
}

// OpProfileEntry is one line of OpProfile.
type OpProfileEntry struct {
	Op      string  // op type and output shape
	Calls   int     // executions
	Seconds float64 // total wall time
}

// OpProfile returns the op timings gathered since EnableOpProfile (or the last reset), the
// slowest first, and resets them.
func OpProfile() []OpProfileEntry {
	opStatsMu.Lock()
	defer opStatsMu.Unlock()
	var out []OpProfileEntry
	for k, v := range opStats {
		out = append(out, OpProfileEntry{Op: k, Calls: v.calls, Seconds: float64(v.nanos) / 1e9})
	}
	clear(opStats)
	sort.Slice(out, func(i, j int) bool { return out[i].Seconds > out[j].Seconds })
	return out
}

// reflectTypeName is the type name of v, e.g. "*simplego.sliceNode".
func reflectTypeName(v any) string { return reflect.TypeOf(v).String() }
