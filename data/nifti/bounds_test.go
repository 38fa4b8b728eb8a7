package nifti

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// heapGrowth runs f and returns how much the heap's cumulative allocation
// grew.
func heapGrowth(f func()) int64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// smallImage returns the encoded bytes of a 4x4x2 int16 image (64 bytes of
// voxel data) in the given version.
func smallImage(t *testing.T, version int) []byte {
	t.Helper()
	im, err := FromFloat32([]int{4, 4, 2}, Int16, make([]float32, 32))
	if err != nil {
		t.Fatal(err)
	}
	im.Header.Version = version
	b, err := im.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setDims2 sets a NIfTI-2 header's dims in place.
func setDims2(b []byte, dims ...int64) {
	binary.LittleEndian.PutUint64(b[16:], uint64(len(dims)))
	for i, d := range dims {
		binary.LittleEndian.PutUint64(b[24+8*i:], uint64(d))
	}
}

func gzipBytes(t *testing.T, parts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	for _, p := range parts {
		if _, err := zw.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	return buf.Bytes()
}

// TestReadFileLongFile reads a 4 GB file (sparse) whose header describes 64
// bytes of voxels: only the header and those bytes are read, at once and
// without a large allocation (the issue: info read the whole file first and
// ran out of memory).
func TestReadFileLongFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "long.nii")
	if err := os.WriteFile(p, smallImage(t, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 4<<30); err != nil {
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	start := time.Now()
	var im *Image
	var err error
	grown := heapGrowth(func() { im, err = ReadFile(p) })
	if err != nil {
		t.Fatal(err)
	}
	if im.Len() != 32 {
		t.Errorf("read %d voxels, want 32", im.Len())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("reading a 4 GB file with a 64-byte image took %v", d)
	}
	if grown > 16<<20 {
		t.Errorf("reading a 4 GB file with a 64-byte image allocated %d MB", grown>>20)
	}
}

// TestReadStopsAtData reads from endless streams after a valid image: plain,
// Read consumes the header and the voxel data (and at most one buffer more);
// gzip, it drains at most maxTrailing bytes more and then refuses.
func TestReadStopsAtData(t *testing.T) {
	b := smallImage(t, 1)
	cr := &countingReader{r: io.MultiReader(bytes.NewReader(b), zeros{})}
	im, err := Read(cr, "stream.nii")
	if err != nil {
		t.Fatal(err)
	}
	if im.Len() != 32 || cr.n > int64(len(b))+8192 {
		t.Errorf("read %d voxels consuming %d bytes of an endless stream, want 32 voxels and about %d bytes", im.Len(), cr.n, len(b))
	}
	// A gzip stream that goes on 64 MiB past the data.
	gz := gzipBytes(t, b, make([]byte, 64<<20))
	cr = &countingReader{r: bytes.NewReader(gz)}
	_, err = Read(cr, "bomb.nii.gz")
	if err == nil || !strings.Contains(err.Error(), "bomb.nii.gz") || !strings.Contains(err.Error(), "follow the 64 bytes of voxel data") {
		t.Errorf("gzip stream 64 MiB longer than its header says: err = %v", err)
	}
	// A short remainder (padding) is drained, and the CRC checked.
	if _, err := Read(bytes.NewReader(gzipBytes(t, b, make([]byte, 1000))), "padded.nii.gz"); err != nil {
		t.Errorf("1000 bytes of padding after the data: %v", err)
	}
}

// TestReadRefusesHugeHeaders writes small files whose headers describe more
// voxel data than MaxDataBytes, or an absurd vox_offset: each is refused at
// once with an error naming the file and the limit, before any allocation.
func TestReadRefusesHugeHeaders(t *testing.T) {
	dir := t.TempDir()
	huge := smallImage(t, 2)
	setDims2(huge, 50000, 50000, 1) // 2.5e9 int16 voxels: 5 GB
	offset := smallImage(t, 2)
	binary.LittleEndian.PutUint64(offset[168:], 1<<40)
	v1 := smallImage(t, 1) // NIfTI-1: 32767^3 int16 voxels overflow maxVoxels
	for i := 1; i <= 3; i++ {
		binary.LittleEndian.PutUint16(v1[40+2*i:], 32767)
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"huge.nii", huge, "more than this reader's limit of 2147483648 bytes (2 GiB)"},
		{"huge.nii.gz", gzipBytes(t, huge), "more than this reader's limit of 2147483648 bytes (2 GiB)"},
		{"offset.nii", offset, "vox_offset is 1099511627776, more than this reader's limit"},
		{"overflow.nii", v1, "describe more than"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		start := time.Now()
		grown := heapGrowth(func() { _, err = ReadFile(p) })
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming the file and saying %q", c.name, err, c.want)
		}
		if grown > 16<<20 || time.Since(start) > time.Second {
			t.Errorf("%s: refusing took %v and %d MB", c.name, time.Since(start), grown>>20)
		}
		if _, err := Decode(c.b); err == nil && !strings.HasSuffix(c.name, ".gz") {
			t.Errorf("%s: Decode accepted it", c.name)
		}
	}
}

// TestReadTruncatedLargeHeader reads tiny files whose headers describe 1 GiB
// of voxels (under the limit): the error says truncated and names the file,
// and the reader does not allocate the gigabyte first.
func TestReadTruncatedLargeHeader(t *testing.T) {
	dir := t.TempDir()
	b := smallImage(t, 2)
	setDims2(b, 1024, 1024, 512) // int16: 1 GiB
	for _, c := range []struct {
		name string
		b    []byte
	}{{"big.nii", b}, {"big.nii.gz", gzipBytes(t, b)}} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		grown := heapGrowth(func() { _, err = ReadFile(p) })
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "need 1073741824 bytes of voxel data") ||
			!strings.Contains(err.Error(), "truncated") {
			t.Errorf("%s: err = %v", c.name, err)
		}
		if grown > 64<<20 {
			t.Errorf("%s: a truncated file allocated %d MB", c.name, grown>>20)
		}
	}
	// A complete gzip stream whose content stops 10 bytes short.
	raw := smallImage(t, 1)
	p := filepath.Join(dir, "short.nii.gz")
	os.WriteFile(p, gzipBytes(t, raw[:len(raw)-10]), 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "file has 54 (truncated") {
		t.Errorf("short gzip content: err = %v", err)
	}
	// Extension bytes before the data: a vox_offset past the end.
	b = smallImage(t, 2)
	binary.LittleEndian.PutUint64(b[168:], 100000)
	p = filepath.Join(dir, "ext.nii.gz")
	os.WriteFile(p, gzipBytes(t, b), 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("vox_offset past the end: err = %v", err)
	}
}

// TestReadVoxOffsetExtensions reads an image whose data starts after 1000
// bytes of extensions, plain and gzip.
func TestReadVoxOffsetExtensions(t *testing.T) {
	raw := smallImage(t, 2)
	data := raw[544:]
	hdr := append([]byte(nil), raw[:544]...)
	binary.LittleEndian.PutUint64(hdr[168:], 1544)
	file := append(append(hdr, make([]byte, 1000)...), data...)
	for i := range data {
		data[i] = byte(i)
	}
	file = append(file[:1544], data...)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		b    []byte
	}{{"ext.nii", file}, {"ext.nii.gz", gzipBytes(t, file)}} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.b, 0o644)
		im, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(im.Raw(), data) || im.Header.VoxOffset != 1544 {
			t.Errorf("%s: voxels %v, offset %d", c.name, im.Raw()[:8], im.Header.VoxOffset)
		}
	}
}

// FuzzRead feeds arbitrary bytes to the streaming reader, plain and
// gzip-compressed: it must not panic, every error must name the file, and
// what Read accepts from plain bytes Decode accepts with the same voxels.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"anatomical.nii", "functional.nii"} {
		if b, err := os.ReadFile(filepath.Join(nibabelData, name)); err == nil {
			f.Add(b[:min(len(b), 1024)], false)
		}
	}
	for _, v := range []int{1, 2} {
		im, _ := FromFloat32([]int{3, 2}, Float32, []float32{1, 2, 3, 4, 5, 6})
		im.Header.Version = v
		b, _ := im.Encode()
		f.Add(b, false)
		f.Add(b, true)
		f.Add(b[:len(b)-3], false)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // reused: a new one allocates about 1 MB
	f.Fuzz(func(t *testing.T, b []byte, gz bool) {
		in := b
		if gz {
			buf.Reset()
			zw.Reset(&buf)
			zw.Write(b)
			zw.Close()
			in = buf.Bytes()
		}
		im, err := Read(bytes.NewReader(in), "fuzz.nii")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.nii: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			if _, derr := Decode(b); derr == nil && !gz {
				t.Fatalf("Read refused what Decode accepts: %v", err)
			}
			return
		}
		if int64(len(im.Raw())) != im.Header.DataBytes() {
			t.Fatalf("image holds %d bytes, its header describes %d", len(im.Raw()), im.Header.DataBytes())
		}
		dec, err := Decode(b)
		if err != nil {
			if gz && strings.Contains(err.Error(), "truncated") {
				return // gzip: up to maxTrailing bytes may follow; Decode sees the same
			}
			t.Fatalf("Read accepted what Decode refuses: %v", err)
		}
		if !bytes.Equal(dec.Raw(), im.Raw()) || dec.Header.VoxOffset != im.Header.VoxOffset {
			t.Fatal("Read and Decode disagree on the voxels")
		}
		_ = im.Float64s()
	})
}
