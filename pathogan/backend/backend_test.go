package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
)

// TestNewHonoursGOMLXBackendGo checks the Go backend's options as GOMLX_BACKEND gives them, and
// the executor it picks when none is given: the parallel one on two cores, the sequential one on
// one.
func TestNewHonoursGOMLXBackendGo(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		env, wantConfig string
		wantMode        ConvMode
		cores           int
	}{
		{"go", "ops_parallel,dotgeneral_small,parallelism=-1,conv=kernel", ConvKernel, 2},
		{"go", "ops_sequential,dotgeneral_small,conv=kernel", ConvKernel, 1},
		{"go:conv=native", "ops_parallel,dotgeneral_small,parallelism=-1,conv=native", ConvNative, 2},
		{"go:conv=im2col", "ops_parallel,dotgeneral_small,parallelism=-1,conv=im2col", ConvIm2Col, 2},
		{"go:ops_parallel", "ops_parallel,dotgeneral_small,conv=kernel", ConvKernel, 1},
		{"go:ops_sequential", "ops_sequential,dotgeneral_small,conv=kernel", ConvKernel, 2},
		{"go:parallelism=-1", "dotgeneral_small,parallelism=-1,conv=kernel", ConvKernel, 1},
		{"go:dotgeneral_large", "dotgeneral_large,ops_parallel,parallelism=-1,conv=kernel", ConvKernel, 2},
	} {
		t.Run(fmt.Sprintf("%s/%d_cores", tc.env, tc.cores), func(t *testing.T) {
			runtime.GOMAXPROCS(tc.cores)
			t.Setenv(backends.ConfigEnvVar, tc.env)
			b, info, err := New()
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			gb, ok := b.(*GoBackend)
			if !ok {
				t.Fatalf("got backend %T, want *GoBackend", b)
			}
			if gb.ConvMode() != tc.wantMode || info.Config != tc.wantConfig {
				t.Fatalf("got mode %s config %q, want %s %q", gb.ConvMode(), info.Config, tc.wantMode, tc.wantConfig)
			}
			if info.Name != GoBackendName || !info.GoFixes || info.Reason != "GOMLX_BACKEND="+tc.env {
				t.Fatalf("unexpected info %+v", info)
			}
			if b.String() != GoBackendName || !b.Capabilities().Operations[backends.OpTypePad] {
				t.Fatalf("backend %s: missing Pad capability", b)
			}
			t.Log(info)
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, env := range []string{"go:conv=fft", "go:bogus_option", "nosuchbackend"} {
		t.Setenv(backends.ConfigEnvVar, env)
		if _, info, err := New(); err == nil {
			t.Errorf("GOMLX_BACKEND=%s: expected an error, got %s", env, info)
		} else {
			t.Logf("GOMLX_BACKEND=%s: %v", env, firstLine(err))
		}
	}
}

// TestNewAutoPick checks that without GOMLX_BACKEND New picks XLA when a plugin loads and the
// fixed Go backend otherwise (this machine has no PJRT plugin).
func TestNewAutoPick(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	t.Setenv(backends.ConfigEnvVar, "")
	b, info, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	t.Log(info)
	switch info.Name {
	case GoBackendName:
		if _, ok := b.(*GoBackend); !ok || !info.GoFixes || !strings.Contains(info.Reason, "XLA") {
			t.Fatalf("fallback to Go: got %T, info %+v", b, info)
		}
		if !strings.Contains(info.Config, "ops_parallel") || !strings.Contains(info.Config, "parallelism=-1") {
			t.Fatalf("Go fallback should use the parallel executor with an unlimited pool, got %q", info.Config)
		}
	case "xla":
		if info.GoFixes {
			t.Fatalf("XLA backend marked with Go fixes: %+v", info)
		}
	default:
		t.Fatalf("unexpected backend %+v", info)
	}
}

func TestFixCUDAFlags(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "lib", "pjrt_c_api_cuda_plugin.so")
	libdevice := filepath.Join(dir, "nvidia", "cuda_nvcc", "nvvm", "libdevice")
	for _, d := range []string{filepath.Dir(plugin), libdevice} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
	note := fixCUDAFlags(plugin)
	want := "--xla_dump_to=/tmp/x --xla_gpu_cuda_data_dir=" + filepath.Join(dir, "nvidia", "cuda_nvcc")
	if got := os.Getenv("XLA_FLAGS"); got != want || note == "" {
		t.Fatalf("XLA_FLAGS=%q (note %q), want %q", got, note, want)
	}
	// Already set: left alone.
	if note := fixCUDAFlags(plugin); note != "" || os.Getenv("XLA_FLAGS") != want {
		t.Fatalf("second call changed XLA_FLAGS: %q", os.Getenv("XLA_FLAGS"))
	}
	// Not a CUDA plugin: nothing.
	t.Setenv("XLA_FLAGS", "")
	if note := fixCUDAFlags(filepath.Join(dir, "lib", "pjrt_c_api_cpu_plugin.so")); note != "" || os.Getenv("XLA_FLAGS") != "" {
		t.Fatalf("CPU plugin changed XLA_FLAGS: %q", os.Getenv("XLA_FLAGS"))
	}
}
