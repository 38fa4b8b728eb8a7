package data

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// npyBytes renders a .npy file by hand: magic, version, header length
// (2 bytes for version 1, 4 for 2 and 3), the dict padded with spaces to a
// multiple of 64 and ending in '\n', then data.
func npyBytes(version byte, dict string, data []byte) []byte {
	lenBytes := 2
	if version > 1 {
		lenBytes = 4
	}
	pre := 8 + lenBytes
	pad := 64 - (pre+len(dict)+1)%64
	hdr := dict + strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.Write(npyMagic)
	b.Write([]byte{version, 0})
	if version > 1 {
		binary.Write(&b, binary.LittleEndian, uint32(len(hdr)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	}
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestReadMaskNpy(t *testing.T) {
	want := []uint8{0, 1, 1, 0, 0, 1} // a 2×3 mask
	cases := []struct {
		name    string
		version byte
		descr   string
		data    []byte
	}{
		{"u1 v1", 1, "|u1", []byte{0, 1, 255, 0, 0, 7}},
		{"b1 v2", 2, "|b1", []byte{0, 1, 1, 0, 0, 1}},
		// numpy writes only 0 and 1; any other byte is true too.
		{"b1 byte 2", 1, "|b1", []byte{0, 2, 1, 0, 0, 0x80}},
		// A dict without the trailing ", " (npyio's own parser reads this
		// shape as (2,)).
		{"u1 no trailing comma", 1, "|u1", []byte{0, 1, 1, 0, 0, 1}},
		{"i1 v3", 3, "|i1", []byte{0, 0xff, 2, 0, 0, 1}},
		{"<i1", 1, "<i1", []byte{0, 0xff, 2, 0, 0, 1}},
		{"<i2", 1, "<i2", le(int16(0), int16(-1), int16(256), int16(0), int16(0), int16(4))},
		{"<i4", 1, "<i4", le(int32(0), int32(1), int32(1<<20), int32(0), int32(0), int32(-5))},
		{"<i8", 1, "<i8", le(int64(0), int64(1<<40), int64(1), int64(0), int64(0), int64(1))},
		{"<u2", 1, "<u2", le(uint16(0), uint16(1), uint16(2), uint16(0), uint16(0), uint16(3))},
		{"<u4", 1, "<u4", le(uint32(0), uint32(1), uint32(2), uint32(0), uint32(0), uint32(3))},
		{"<u8", 1, "<u8", le(uint64(0), uint64(1), uint64(2), uint64(0), uint64(0), uint64(3))},
		// -0.0 is zero (background); 0.25 and 1e-30 are non-zero.
		{"<f4", 1, "<f4", le(float32(math.Copysign(0, -1)), float32(0.25), float32(1e-30), float32(0), float32(0), float32(1))},
		{"<f8", 2, "<f8", le(0.0, 1.0, -3.5, 0.0, 0.0, 1e-300)},
	}
	for _, c := range cases {
		dict := "{'descr': '" + c.descr + "', 'fortran_order': False, 'shape': (2, 3), }"
		if strings.Contains(c.name, "no trailing comma") {
			dict = "{'descr': '" + c.descr + "', 'fortran_order': False, 'shape': (2, 3)}"
		}
		p := writeTemp(t, "m.npy", npyBytes(c.version, dict, c.data))
		m, h, w, err := ReadMaskNpy(p)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if h != 2 || w != 3 || !bytes.Equal(m, want) {
			t.Errorf("%s: %dx%d %v, want 2x3 %v", c.name, h, w, m, want)
		}
	}
}

// TestReadMaskNpyLarge reads a mask of 300 x 300 pixels, more than one piece
// of the decoder (65,536 values) with a remainder, where pixel i is set when
// i%7 == 3; then the same with a NaN in the second piece.
func TestReadMaskNpyLarge(t *testing.T) {
	const h, w = 300, 300
	vals := make([]float32, h*w)
	want := make([]uint8, h*w)
	for i := range vals {
		if i%7 == 3 {
			vals[i], want[i] = float32(i), 1
		}
	}
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (300, 300), }"
	p := writeTemp(t, "big.npy", npyBytes(1, dict, le(vals)))
	m, gh, gw, err := ReadMaskNpy(p)
	if err != nil {
		t.Fatal(err)
	}
	if gh != h || gw != w || !bytes.Equal(m, want) {
		t.Errorf("read %dx%d, %d pixels differ", gh, gw, countDiff(m, want))
	}
	vals[70000] = float32(math.NaN()) // (233, 100)
	p = writeTemp(t, "nan.npy", npyBytes(1, dict, le(vals)))
	if _, _, _, err := ReadMaskNpy(p); err == nil || !strings.Contains(err.Error(), "NaN at pixel (233, 100)") {
		t.Errorf("NaN in the second piece: %v", err)
	}
}

func countDiff(a, b []uint8) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n + max(len(a), len(b)) - min(len(a), len(b))
}

func TestReadMaskNpyErrors(t *testing.T) {
	hdr := func(descr, order, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': (" + shape + "), }"
	}
	cases := []struct {
		name, file string
		b          []byte
		errHas     string
	}{
		{"fortran", "f.npy", npyBytes(1, hdr("|u1", "True", "2, 3"), make([]byte, 6)), "Fortran"},
		{"rank 1", "r1.npy", npyBytes(1, hdr("|u1", "False", "6,"), make([]byte, 6)), "1 dimensions"},
		{"rank 3", "r3.npy", npyBytes(1, hdr("|u1", "False", "1, 2, 3"), make([]byte, 6)), "3 dimensions"},
		{"big endian", "be.npy", npyBytes(1, hdr(">i4", "False", "2, 3"), make([]byte, 24)), "dtype"},
		{"complex", "c.npy", npyBytes(1, hdr("<c8", "False", "2, 3"), make([]byte, 48)), "dtype"},
		{"truncated data", "t.npy", npyBytes(1, hdr("<i2", "False", "2, 3"), make([]byte, 11)), "truncated"},
		{"trailing data", "x.npy", npyBytes(1, hdr("|u1", "False", "2, 3"), make([]byte, 7)), "after the data"},
		{"truncated header", "th.npy", npyBytes(1, hdr("|u1", "False", "2, 3"), nil)[:30], "truncated"},
		{"not npy", "n.npy", []byte("hello, world"), "not a .npy"},
		{"version 4", "v4.npy", append([]byte("\x93NUMPY\x04\x00"), 0, 0, 0, 0), "version 4"},
		{"NaN", "nan.npy", npyBytes(1, hdr("<f8", "False", "1, 2"), le(0.0, math.NaN())), "NaN at pixel (0, 1)"},
	}
	for _, c := range cases {
		p := writeTemp(t, c.file, c.b)
		_, _, _, err := ReadMaskNpy(p)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.errHas) {
			t.Errorf("%s: error %q should name the file and contain %q", c.name, err, c.errHas)
		}
	}
	if _, _, _, err := ReadMaskNpy(filepath.Join(t.TempDir(), "missing.npy")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestReadMaskNpyNumpy has numpy write masks of several dtypes and header
// versions, using /usr/bin/python3 or else the python3 on PATH. It skips
// when neither has numpy, except under CI=true.
func TestReadMaskNpyNumpy(t *testing.T) {
	py := ""
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(c, "-c", "import numpy").Run() == nil {
			py = c
			break
		}
	}
	if py == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with numpy is required when CI=true")
		}
		t.Skip("python3 with numpy not available")
	}
	dir := t.TempDir()
	script := `
import sys, numpy as np
from numpy.lib import format as F
d = sys.argv[1]
m = np.zeros((5, 7), dtype=np.uint8)
m[1:4, 2:6] = 1
m[4, 0] = 1
for dt in ['u1', 'bool', 'i1', 'i2', 'i4', 'i8', 'u2', 'u4', 'u8', 'f4', 'f8']:
    np.save(d + '/' + dt + '.npy', (m * 3).astype(dt))
for v in [(2, 0), (3, 0)]:
    with open(d + '/v%d.npy' % v[0], 'wb') as f:
        F.write_array(f, m, version=v)
np.save(d + '/fortran.npy', np.asfortranarray(m))
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := make([]uint8, 35)
	for y := 1; y < 4; y++ {
		for x := 2; x < 6; x++ {
			want[y*7+x] = 1
		}
	}
	want[4*7] = 1
	for _, name := range []string{"u1", "bool", "i1", "i2", "i4", "i8", "u2", "u4", "u8", "f4", "f8", "v2", "v3"} {
		m, h, w, err := ReadMaskNpy(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if h != 5 || w != 7 || !bytes.Equal(m, want) {
			t.Errorf("%s: %dx%d %v", name, h, w, m)
		}
	}
	if _, _, _, err := ReadMaskNpy(filepath.Join(dir, "fortran.npy")); err == nil || !strings.Contains(err.Error(), "Fortran") {
		t.Errorf("fortran: %v", err)
	}
}
