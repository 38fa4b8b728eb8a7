package nifti

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nibabelData is where Debian's python3-nibabel installs its test images.
const nibabelData = "/usr/lib/python3/dist-packages/nibabel/tests/data"

// nibabelFile returns the path of a nibabel test file. It skips the test when
// the package is not installed, except in CI (CI=true), where that is a failure.
func nibabelFile(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(nibabelData, name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing in CI: .ci/run must install python3-nibabel", p)
		}
		t.Skipf("%s not found: apt-get install python3-nibabel to run this test", p)
	}
	return p
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// TestReadNibabel reads real files written by other tools. Expected values are
// what nibabel 5 reports for the same files (np.asarray(img.dataobj) raveled in
// Fortran order, i.e. NIfTI's stored order).
func TestReadNibabel(t *testing.T) {
	cases := []struct {
		file          string
		version       int
		order         binary.ByteOrder
		shape         []int
		dt            Datatype
		voxel         []float64
		min, max, avg float64
		probe         map[int]float64
	}{
		// 0: big-endian int16, NIfTI-1.
		{"anatomical.nii", 1, binary.BigEndian, []int{33, 41, 25}, Int16, []float64{2, 2, 2},
			-610, 30393, 8401.066725794532, map[int]float64{0: 10712, 11275: 11347, 33824: 2971}},
		// 1: 4-D, gzip, little-endian.
		{"example4d.nii.gz", 1, binary.LittleEndian, []int{128, 96, 24, 2}, Int16, []float64{2, 2, 2.199999},
			0, 1162, 172.90811496310764, map[int]float64{0: 0}},
		// 2: NIfTI-2, gzip.
		{"example_nifti2.nii.gz", 2, binary.LittleEndian, []int{32, 20, 12, 2}, Int16, []float64{2, 2, 2.199999},
			46, 757, 450.963671875, map[int]float64{0: 424, 5120: 500, 15359: 457}},
		// 3: scl_slope/scl_inter applied (the fact: 629.826, 5571.622, 3637.4085).
		{"functional.nii", 1, binary.LittleEndian, []int{17, 21, 3, 20}, Int16, []float64{4, 4, 8},
			629.826171875, 5571.621858656406, 3637.408513675239,
			map[int]float64{0: 4004.137202501297, 7140: 3669.9335176944733, 21419: 3129.3409598469734}},
	}
	for i, c := range cases {
		im, err := ReadFile(nibabelFile(t, c.file))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		h := im.Header
		if h.Version != c.version || h.ByteOrder != c.order || h.Datatype != c.dt {
			t.Errorf("case %d %s: version %d order %s dt %s, want %d %v %s", i, c.file, h.Version, h.ByteOrderName(), h.Datatype, c.version, c.order, c.dt)
		}
		if got := im.Shape(); !equalInts(got, c.shape) {
			t.Errorf("case %d %s: shape %v, want %v", i, c.file, got, c.shape)
		}
		for k, v := range h.VoxelSize() {
			if !near(v, c.voxel[k], 1e-6) {
				t.Errorf("case %d %s: voxel size %v, want %v", i, c.file, h.VoxelSize(), c.voxel)
			}
		}
		lo, hi, avg := im.Stats()
		if !near(lo, c.min, 1e-6) || !near(hi, c.max, 1e-6) || !near(avg, c.avg, 1e-9) {
			t.Errorf("case %d %s: min %.6f max %.6f mean %.7f, want %.6f %.6f %.7f", i, c.file, lo, hi, avg, c.min, c.max, c.avg)
		}
		for idx, want := range c.probe {
			if got := im.At(idx); !near(got, want, 1e-6) {
				t.Errorf("case %d %s: voxel %d = %v, want %v", i, c.file, idx, got, want)
			}
		}
	}
}

// TestFunctionalFact checks the figure quoted in the issue to the printed digits.
func TestFunctionalFact(t *testing.T) {
	im, err := ReadFile(nibabelFile(t, "functional.nii"))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, avg := im.Stats()
	if math.Round(lo*1000) != 629826 || math.Round(hi*1000) != 5571622 || math.Round(avg*1e4) != 36374085 {
		t.Errorf("functional.nii: min %.3f max %.3f mean %.4f, want 629.826 5571.622 3637.4085", lo, hi, avg)
	}
	if !im.Header.Scaled() {
		t.Error("functional.nii should carry scl_slope")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRoundTrip writes every datatype in both versions, byte orders and
// compressions, and reads it back.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	dts := []Datatype{Uint8, Int8, Int16, Uint16, Int32, Uint32, Float32, Float64}
	shape := []int{5, 4, 3, 2}
	for _, dt := range dts {
		lo, hi := intRange(dt)
		lo, hi = math.Max(lo, -1e6), math.Min(hi, 1e6)
		vals := make([]float32, 5*4*3*2)
		for i := range vals {
			f := float64(i) / float64(len(vals)-1)
			v := lo + f*(hi-lo)
			if dt != Float32 && dt != Float64 {
				v = math.Round(v)
			} else {
				v = v + 0.25
			}
			vals[i] = float32(v)
		}
		for _, version := range []int{1, 2} {
			for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				for _, ext := range []string{".nii", ".nii.gz"} {
					im, err := FromFloat32(shape, dt, vals)
					if err != nil {
						t.Fatal(err)
					}
					im.Header.Version = version
					im.SetByteOrder(order)
					im.Header.Pixdim[1], im.Header.Pixdim[4] = 1.5, 2000
					im.Header.Descrip = "round trip"
					im.Header.QformCode = 2
					im.Header.QOffset = [3]float64{-90, 126, -72}
					name := filepath.Join(dir, dt.String()+ext)
					if err := WriteFile(name, im); err != nil {
						t.Fatal(err)
					}
					back, err := ReadFile(name)
					if err != nil {
						t.Fatal(err)
					}
					tag := dt.String() + ext
					if back.Header.Version != version || back.Header.ByteOrder != order || back.Header.Datatype != dt {
						t.Errorf("%s v%d %s: read back v%d %s %s", tag, version, order, back.Header.Version, back.Header.ByteOrderName(), back.Header.Datatype)
					}
					if !equalInts(back.Shape(), shape) || back.Header.Pixdim[1] != 1.5 || back.Header.Pixdim[4] != 2000 ||
						back.Header.Descrip != "round trip" || back.Header.QformCode != 2 || back.Header.QOffset[0] != -90 {
						t.Errorf("%s v%d: header changed: %+v", tag, version, back.Header)
					}
					got := back.Float32s()
					for i := range vals {
						if got[i] != vals[i] {
							t.Fatalf("%s v%d %s: voxel %d = %v, want %v", tag, version, order, i, got[i], vals[i])
						}
					}
				}
			}
		}
	}
}

// TestScaling checks y = slope*x + inter, and that slope 0 means no scaling.
func TestScaling(t *testing.T) {
	im, err := FromFloat32([]int{3}, Int16, []float32{-2, 0, 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := im.Encode()
	setF32 := func(off int, v float32) { binary.LittleEndian.PutUint32(b[off:], math.Float32bits(v)) }
	for i, c := range []struct {
		slope, inter float32
		want         []float64
	}{
		{0, 5, []float64{-2, 0, 7}},       // slope 0: none, intercept ignored
		{2, 1, []float64{-3, 1, 15}},      // by hand: 2*x + 1
		{0.5, -1, []float64{-2, -1, 2.5}}, // by hand: x/2 - 1
		{float32(math.NaN()), 3, []float64{-2, 0, 7}},
	} {
		setF32(112, c.slope)
		setF32(116, c.inter)
		got, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for k, w := range c.want {
			if got.At(k) != w {
				t.Errorf("case %d: voxel %d = %v, want %v", i, k, got.At(k), w)
			}
		}
	}
}

// TestCorrupt feeds broken files and checks that each gives an error naming the
// file and the problem.
func TestCorrupt(t *testing.T) {
	good, err := FromFloat32([]int{4, 4, 2}, Int16, make([]float32, 32))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := good.Encode()
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), raw...)) }
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	gzb := gz.Bytes()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty.nii", nil, "too short"},
		{"short-header.nii", raw[:200], "truncated header"},
		{"truncated.nii", raw[:len(raw)-10], "need 64 bytes of voxel data"},
		{"magic.nii", mod(func(b []byte) []byte { copy(b[344:], "xyz\x00"); return b }), "bad magic"},
		{"pair.nii", mod(func(b []byte) []byte { copy(b[344:], "ni1\x00"); return b }), "two-file"},
		{"sizeof.nii", mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b, 100); return b }), "not a NIfTI file"},
		{"dims.nii", mod(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[42:], 40); return b }), "need 640 bytes"},
		{"ndim.nii", mod(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[40:], 9); return b }), "dim[0] is 9"},
		{"negdim.nii", mod(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[44:], 0xffff); return b }), "dim[2] is -1"},
		{"datatype.nii", mod(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[70:], 32); return b }), "datatype 32 is not supported"},
		{"bitpix.nii", mod(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[72:], 8); return b }), "bitpix is 8"},
		{"offset.nii", mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[108:], math.Float32bits(12)); return b }), "vox_offset is 12"},
		{"crc.nii.gz", func() []byte { b := append([]byte(nil), gzb...); b[len(b)-6] ^= 0xff; return b }(), "gzip"},
		{"cut.nii.gz", gzb[:len(gzb)/2], "gzip"},
		{"header.nii.gz", gzb[:5], "gzip"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(p)
		if err == nil {
			t.Errorf("case %d %s: no error", i, c.name)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d %s: error %q should name the file and say %q", i, c.name, err, c.want)
		}
	}
}

// TestWriteRejects checks the writer's errors: values that do not fit, a
// NIfTI-1 dim over 32767, and a failed write leaves no file behind.
func TestWriteRejects(t *testing.T) {
	if _, err := FromFloat32([]int{2}, Uint8, []float32{1, 256}); err == nil || !strings.Contains(err.Error(), "256") {
		t.Errorf("uint8 256: err = %v", err)
	}
	if _, err := FromFloat32([]int{2}, Int16, []float32{1, float32(math.NaN())}); err == nil {
		t.Error("NaN into int16: no error")
	}
	if _, err := FromFloat32([]int{3}, Int16, []float32{1}); err == nil {
		t.Error("wrong value count: no error")
	}
	im, err := New([]int{40000}, Uint8)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "big.nii")
	if err := WriteFile(p, im); err == nil || !strings.Contains(err.Error(), "NIfTI-2") {
		t.Errorf("dim 40000 in NIfTI-1: err = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed write left %d files", len(ents))
	}
	im.Header.Version = 2
	if err := WriteFile(p, im); err != nil {
		t.Errorf("dim 40000 in NIfTI-2: %v", err)
	}
}

// TestDeterministicGzip checks that writing the same image twice gives the
// same bytes (no time stamp in the gzip header).
func TestDeterministicGzip(t *testing.T) {
	im, _ := FromFloat32([]int{3, 3}, Float32, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.nii.gz"), filepath.Join(dir, "b.nii.gz")
	if err := WriteFile(a, im); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(b, im); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Error("same image, different bytes")
	}
}

// TestReadHeaderFile reads only the header of a gzip file.
func TestReadHeaderFile(t *testing.T) {
	h, err := ReadHeaderFile(nibabelFile(t, "example_nifti2.nii.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 2 || !equalInts(h.Shape(), []int{32, 20, 12, 2}) {
		t.Errorf("header %+v", h)
	}
}

// FuzzParseHeader checks that no header, however corrupt, panics the parser,
// and that whatever decodes re-encodes to the same values.
func FuzzParseHeader(f *testing.F) {
	for _, name := range []string{"anatomical.nii", "functional.nii"} {
		if b, err := os.ReadFile(filepath.Join(nibabelData, name)); err == nil {
			f.Add(b[:min(len(b), 600)])
		}
	}
	im, _ := FromFloat32([]int{2, 2}, Float32, []float32{1, 2, 3, 4})
	b1, _ := im.Encode()
	f.Add(b1)
	im.Header.Version = 2
	b2, _ := im.Encode()
	f.Add(b2)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseHeader(b); err != nil {
			return
		}
		im, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := im.Encode()
		if err != nil {
			t.Fatalf("decoded image does not re-encode: %v", err)
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded image does not decode: %v", err)
		}
		if back.Len() != im.Len() {
			t.Fatalf("re-encoded image has %d voxels, want %d", back.Len(), im.Len())
		}
		for i := range min(im.Len(), 64) {
			x, y := im.At(i), back.At(i)
			if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
				t.Fatalf("voxel %d: %v became %v", i, x, y)
			}
		}
	})
}

// TestFromFloat32MatchesSet: FromFloat32 stores every datatype's values with
// the bytes Set gives them, rounding halves away from zero and keeping the
// range's ends, and refuses what Set refuses with Set's message.
func TestFromFloat32MatchesSet(t *testing.T) {
	vals := []float32{0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 127.49, 254.5, 255, 255.4, -32768, 32767, 32767.4, -32768.4, 3.25e4, -7.75, float32(math.Inf(1))}
	for _, dt := range []Datatype{Uint8, Int8, Int16, Uint16, Int32, Float32, Float64} {
		for i, v := range vals {
			got, gotErr := FromFloat32([]int{1}, dt, []float32{v})
			want, err := New([]int{1}, dt)
			if err != nil {
				t.Fatal(err)
			}
			wantErr := want.Set(0, float64(v))
			switch {
			case (gotErr == nil) != (wantErr == nil):
				t.Errorf("%s, value %g: FromFloat32 err %v, Set err %v", dt, v, gotErr, wantErr)
			case gotErr != nil:
				if gotErr.Error() != wantErr.Error() {
					t.Errorf("%s, value %g: FromFloat32 says %q, Set %q", dt, v, gotErr, wantErr)
				}
			case !bytes.Equal(got.raw, want.raw):
				t.Errorf("%s, value %g (#%d): FromFloat32 stored % x, Set % x", dt, v, i, got.raw, want.raw)
			}
		}
	}
	// The voxel named is the one that does not fit.
	if _, err := FromFloat32([]int{3}, Int16, []float32{1, 2, 40000}); err == nil || !strings.Contains(err.Error(), "voxel 2") {
		t.Errorf("40000 at voxel 2 into int16: err = %v", err)
	}
}

// TestFloat32sMatchesAt: Float32s gives float32(At(i)) for every voxel, in
// every datatype and byte order, with and without scaling.
func TestFloat32sMatchesAt(t *testing.T) {
	vals := []float32{0, 1, -1, 7, -128, 127, 200, -32768, 32767, 1000.25, -3.5}
	for _, dt := range []Datatype{Uint8, Int8, Int16, Uint16, Int32, Float32, Float64} {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, scale := range [][2]float64{{0, 0}, {1, 0}, {0.37, -12.5}, {-2, 3}} {
				im, err := New([]int{len(vals)}, dt)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					im.Set(i, float64(v)) // values a datatype cannot hold stay 0
				}
				im.SetByteOrder(order)
				im.Header.SclSlope, im.Header.SclInter = scale[0], scale[1]
				got := im.Float32s()
				for i := range vals {
					if want := float32(im.At(i)); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Errorf("%s, %v, scaling %v, voxel %d: Float32s %g, At %g", dt, order, scale, i, got[i], want)
					}
				}
			}
		}
	}
}
