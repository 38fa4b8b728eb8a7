package kernels

import (
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"
	"weak"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pathogan-go/pathogan/pathogan/internal/gemm"
	"github.com/pathogan-go/pathogan/pathogan/internal/gomlxcheck"
	"github.com/pkg/errors"
)

// This file installs this package's float32 executors into simplego, without changing GoMLX's
// source: simplego keeps its executors in an unexported table indexed by op type, reached here
// with go:linkname. The executors read the (exported) simplego.Node and simplego.Buffer types
// through mirror structs. Before anything is installed, Install checks the GoMLX version
// (package gomlxcheck) and that every field of the mirrors has the name, type and offset of
// the simplego struct it mirrors; on any difference nothing is installed and Install's error
// says why.
//
// Once installed, the executors run only the nodes of builders registered with Adopt (the
// pathogan Go backend's); every other simplego builder in the process keeps simplego's
// executors. Each adopted builder's per-node plans are dropped with it: by Release (called when
// its executable is finalized) or, at the latest, when the garbage collector frees the builder.

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

// sameLayout returns nil when struct type b (a mirror) has exactly a's fields: the same names,
// types (compared as reflect.Type, so a field of another named type differs even when its kind
// is the same) and offsets, and the same size.
func sameLayout(a, b reflect.Type) error {
	if a.Kind() != reflect.Struct || b.Kind() != reflect.Struct {
		return errors.Errorf("%s and %s must both be structs", a, b)
	}
	if a.Size() != b.Size() || a.NumField() != b.NumField() {
		return errors.Errorf("%s has %d fields (%d bytes), the mirror %d (%d bytes)", a, a.NumField(), a.Size(), b.NumField(), b.Size())
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Offset != fb.Offset || fa.Type != fb.Type {
			return errors.Errorf("%s field %d is %s %s at %d, the mirror's %s %s at %d", a, i, fa.Name, fa.Type, fa.Offset, fb.Name, fb.Type, fb.Offset)
		}
	}
	return nil
}

// checkLayouts compares the mirrors with simplego's structs.
func checkLayouts() error {
	if err := sameLayout(reflect.TypeFor[simplego.Node](), reflect.TypeFor[nodeMirror]()); err != nil {
		return err
	}
	return sameLayout(reflect.TypeFor[simplego.Buffer](), reflect.TypeFor[bufferMirror]())
}

var (
	installMu   sync.Mutex
	installDone bool
	installErr  error
	builtinConv sgExecutor
	builtinDot  sgExecutor
	// The node data types the conv and dot plans read fields from: any other type (another
	// GoMLX version) leaves the node to simplego's executor.
	convDataType = "*simplego.convNode"
	dotDataType  = "*simplego.dotGeneralNodeData"
)

// Install replaces simplego's executors for ConvGeneral, DotGeneral and the element-wise ops of
// elementwise.go with this package's float32 ones, which run the nodes of adopted builders (see
// Adopt) and hand everything else (other builders, other dtypes, grouped convolutions) to
// simplego's. It first checks the GoMLX version and the layouts of the structs it reads; when
// either differs it installs nothing and returns the reason (simplego's executors stay, and
// Adopt has no effect). It is idempotent and safe to call from several goroutines: the first
// call decides, later ones return the same error. It must not run while a simplego executable
// runs (the executor table is written without synchronisation), which is why the pathogan Go
// backend calls it from its constructor.
func Install() error {
	installMu.Lock()
	defer installMu.Unlock()
	if !installDone {
		installDone = true
		if err := install(); err != nil {
			installErr = errors.WithMessage(err, "pathogan kernels not installed")
		}
	}
	return installErr
}

func install() error {
	if err := gomlxcheck.Check(); err != nil {
		return err
	}
	if err := checkLayouts(); err != nil {
		return err
	}
	builtinConv = sgNodeExecutors[backends.OpTypeConvGeneral]
	builtinDot = sgNodeExecutors[backends.OpTypeDotGeneral]
	if builtinConv == nil || builtinDot == nil {
		return errors.New("simplego has no ConvGeneral/DotGeneral executor to replace")
	}
	sgNodeExecutors[backends.OpTypeConvGeneral] = execConv
	sgNodeExecutors[backends.OpTypeDotGeneral] = execDot
	installElementwise()
	return nil
}

// Status returns nil when Install succeeded, Install's error when it failed, and an error saying
// so when Install has not been called. It installs nothing.
func Status() error {
	installMu.Lock()
	defer installMu.Unlock()
	if !installDone {
		return errors.New("pathogan kernels not installed: Install was not called")
	}
	return installErr
}

// Description says in a few words which float32 kernels the Go backend runs, e.g.
// "kernels (matmul: avx512)", or why simplego's run, e.g. "simplego's kernels (pathogan kernels
// not installed: GoMLX is v0.27.0 ...)". It installs nothing.
func Description() string {
	if err := Status(); err != nil {
		return "simplego's kernels (" + err.Error() + ")"
	}
	return "kernels (matmul: " + gemm.Impl() + ")"
}

// Options are an adopted builder's settings.
type Options struct {
	// NativeConv leaves float32 ConvGeneral to simplego's own executor.
	NativeConv bool
}

// builderState is what the executors keep for one adopted builder: its options and the plans
// worked out for its nodes (indexed by the node's position in the builder).
type builderState struct {
	opts Options

	mu    sync.Mutex
	convs map[int]*convPlan
	dots  map[int]*dotPlan
}

// adopted maps weak.Pointer[simplego.Builder] to *builderState. Weak keys let the garbage
// collector free a builder (and its graph) that was never finalized; a cleanup then deletes
// the entry.
var adopted sync.Map

// Adopt registers a simplego builder so that the installed executors run its nodes with the
// given options. Without Install (or when it failed) it does nothing. Adopting a builder twice
// replaces its options and drops its plans.
func Adopt(b *simplego.Builder, opts Options) {
	if b == nil || Status() != nil {
		return
	}
	key := weak.Make(b)
	st := &builderState{opts: opts, convs: map[int]*convPlan{}, dots: map[int]*dotPlan{}}
	if _, loaded := adopted.Swap(key, st); !loaded {
		runtime.AddCleanup(b, func(k weak.Pointer[simplego.Builder]) { adopted.Delete(k) }, key)
	}
}

// Release drops an adopted builder's plans and registration; its nodes run on simplego's
// executors afterwards. It is called when the builder's executable is finalized.
func Release(b *simplego.Builder) {
	if b != nil {
		adopted.Delete(weak.Make(b))
	}
}

// Adopted returns how many builders are registered and how many plans they hold, for tests and
// for checking that finalized graphs release their memory.
func Adopted() (builders, plans int) {
	adopted.Range(func(_, v any) bool {
		st := v.(*builderState)
		st.mu.Lock()
		plans += len(st.convs) + len(st.dots)
		st.mu.Unlock()
		builders++
		return true
	})
	return builders, plans
}

// stateOf returns the state of the node's builder, or nil when the builder was not adopted.
func stateOf(nm *nodeMirror) *builderState {
	if nm.builder == nil {
		return nil
	}
	v, ok := adopted.Load(weak.Make(nm.builder))
	if !ok {
		return nil
	}
	return v.(*builderState)
}

// ForeignExecutors lists the entries of simplego's executor table whose function is not
// simplego's own, as "OpType: function name" (sorted); empty while nothing has replaced any.
// It reads the table only.
func ForeignExecutors() []string {
	var out []string
	for i, ex := range sgNodeExecutors {
		if ex == nil {
			continue
		}
		name := runtime.FuncForPC(reflect.ValueOf(ex).Pointer()).Name()
		if !strings.HasPrefix(name, "github.com/gomlx/gomlx/backends/simplego.") {
			out = append(out, fmt.Sprintf("%s: %s", backends.OpType(i), name))
		}
	}
	sort.Strings(out)
	return out
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

// readField reads the (unexported) field name of the struct that data points to. It returns an
// error, never panics, when data is not a pointer to a struct or has no such field.
func readField(data any, name string) (reflect.Value, error) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, errors.Errorf("node data %T is not a pointer to a struct", data)
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() {
		return reflect.Value{}, errors.Errorf("node data %T has no field %q", data, name)
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), nil
}

// readAs reads field name of data as a T, or returns an error when it is of another type.
func readAs[T any](data any, name string) (T, error) {
	var zero T
	f, err := readField(data, name)
	if err != nil {
		return zero, err
	}
	v, ok := f.Interface().(T)
	if !ok {
		return zero, errors.Errorf("node data %T field %q is %s, want %T", data, name, f.Type(), zero)
	}
	return v, nil
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

// EnableOpProfile wraps every executor in simplego's table (process-wide, for every simplego
// backend) so that each op's wall time is summed per op type and output shape, and for ops with
// several operands per operand shape too ("=" where it is the output's: a broadcast shows as a
// smaller shape); OpProfile reports the sums. It costs about a microsecond per op, so it is
// meant for benchmarks (pathogan bench --op-profile), not training. It returns Install's error without wrapping
// anything when the kernels are not installed.
func EnableOpProfile() error {
	if err := Status(); err != nil {
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
				nm := nodeOf(node)
				key := opType.String() + " " + nm.shape.String()
				if len(nm.inputs) > 1 {
					for _, in := range nm.inputs {
						if s := nodeOf(in).shape; !s.Equal(nm.shape) {
							key += " " + s.String()
						} else {
							key += " ="
						}
					}
				}
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
	Op      string  // op type, output shape and, for several operands, theirs ("=": the output's)
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
