package data

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestOptionsBounds checks that sizes, crops, workers and fractions out of
// bounds are refused by Validate and by Prepare before anything is read or
// written (the issue: --size 100000 tried to allocate 160 GB).
func TestOptionsBounds(t *testing.T) {
	cases := []struct {
		set  func(o *Options)
		want string
	}{
		{func(o *Options) { o.Size = 100000 }, "size 100000: want 0 (native) to 1024"},
		{func(o *Options) { o.Size = -1 }, "size -1"},
		{func(o *Options) { o.Crop = 1025 }, "crop 1025: want 0 (none) to 1024"},
		{func(o *Options) { o.Workers = 0 }, "workers 0: want 1 to 256"},
		{func(o *Options) { o.Workers = 100000 }, "workers 100000"},
		{func(o *Options) { o.TestFraction = -0.5 }, "test fraction -0.5"},
		{func(o *Options) { o.ValFraction = 0.9 }, "validation fraction 0.9"},
	}
	root := t.TempDir()
	writeFixture(t, root, true, fixturePatients[:3])
	for _, c := range cases {
		o := fixtureOptions()
		c.set(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate: err = %v, want %q", err, c.want)
		}
		out := filepath.Join(t.TempDir(), "set")
		start := time.Now()
		if _, err := Prepare(root, out, o, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Prepare: err = %v, want %q", err, c.want)
		}
		if _, err := os.Stat(out); err == nil || time.Since(start) > time.Second {
			t.Errorf("Prepare with %q created %s or took %v", c.want, out, time.Since(start))
		}
	}
	o := fixtureOptions()
	o.Size, o.Crop, o.Workers = MaxSliceSize, MaxSliceSize, MaxWorkers
	if err := o.Validate(); err != nil {
		t.Errorf("the bounds themselves: %v", err)
	}
}

// prepared prepares the fixture patients (with healthy counterparts) and
// returns the source and output folders.
func prepared(t *testing.T, ps []fixturePatient) (root, out string) {
	t.Helper()
	root = t.TempDir()
	writeFixture(t, root, true, ps)
	writeFixtureHealthy(t, root, ps)
	out = filepath.Join(t.TempDir(), "set")
	sum, err := Prepare(root, out, fixtureOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Healthy {
		t.Fatal("fixture set has no healthy.npy")
	}
	return root, out
}

// TestOpenDamagedNpy truncates or extends each .npy file of a prepared set
// by a few bytes: Open refuses it with an error that names the file.
func TestOpenDamagedNpy(t *testing.T) {
	_, out := prepared(t, fixturePatients[:5])
	for _, name := range []string{ImagesFile, LabelsFile, HealthyFile} {
		p := filepath.Join(out, name)
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			b    []byte
			want string
		}{
			{orig[:len(orig)-7], "(truncated)"},
			{orig[:100], "truncated .npy header"},
			{append(append([]byte(nil), orig...), 1, 2, 3), "3 bytes after the data"},
		} {
			os.WriteFile(p, c.b, 0o644)
			s, err := Open(out)
			if err == nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s of %d bytes: err = %v, want one naming the file and saying %q", name, len(c.b), err, c.want)
			}
		}
		os.WriteFile(p, orig, 0o644)
	}
	if s, err := Open(out); err != nil {
		t.Fatal(err)
	} else {
		s.Close()
	}
}

// TestPrepareCacheDamaged damages a prepared set in several ways: the next
// Prepare with the same options must not report it as cached, must say why in
// Summary.Damaged, and must leave the same files as the first preparation.
func TestPrepareCacheDamaged(t *testing.T) {
	root, out := prepared(t, fixturePatients[:5])
	files := []string{ImagesFile, LabelsFile, HealthyFile, SlicesFile, SplitFile}
	want := map[string][]byte{}
	for _, f := range files {
		want[f], _ = os.ReadFile(filepath.Join(out, f))
	}
	cases := []struct {
		name   string
		damage func()
		says   string
	}{
		{"images truncated", func() { os.Truncate(filepath.Join(out, ImagesFile), int64(len(want[ImagesFile])-4)) }, ImagesFile},
		{"labels truncated", func() { os.Truncate(filepath.Join(out, LabelsFile), 130) }, LabelsFile},
		{"healthy removed", func() { os.Remove(filepath.Join(out, HealthyFile)) }, HealthyFile},
		{"healthy truncated", func() { os.Truncate(filepath.Join(out, HealthyFile), 0) }, HealthyFile},
		{"slices.csv row lost", func() {
			b := want[SlicesFile]
			os.WriteFile(filepath.Join(out, SlicesFile), b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1], 0o644)
		}, SlicesFile},
		{"split.csv damaged", func() { os.WriteFile(filepath.Join(out, SplitFile), []byte("patient,split\nP01,nowhere\n"), 0o644) }, SplitFile},
	}
	for _, c := range cases {
		c.damage()
		sum, err := Prepare(root, out, fixtureOptions(), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if sum.Cached || !strings.Contains(sum.Damaged, c.says) {
			t.Errorf("%s: cached %v, damaged %q: want prepared again, naming %s", c.name, sum.Cached, sum.Damaged, c.says)
		}
		for _, f := range files {
			if b, _ := os.ReadFile(filepath.Join(out, f)); !bytes.Equal(b, want[f]) {
				t.Errorf("%s: %s differs after preparing again", c.name, f)
			}
		}
	}
	sum, err := Prepare(root, out, fixtureOptions(), nil)
	if err != nil || !sum.Cached || sum.Damaged != "" {
		t.Errorf("intact set: cached %v, damaged %q, err %v", sum != nil && sum.Cached, sum.Damaged, err)
	}
}

// TestPrepareEmptyTestSplit checks that a split without test patients is an
// error unless the test fraction is 0, with a drawn split and with a split
// file.
func TestPrepareEmptyTestSplit(t *testing.T) {
	root := t.TempDir()
	writeFixture(t, root, true, fixturePatients[:5])
	o := fixtureOptions()
	o.TestFraction = 0.05 // 3 HGG and 2 LGG: rounds to no test patient
	_, err := Prepare(root, filepath.Join(t.TempDir(), "a"), o, nil)
	if err == nil || !strings.Contains(err.Error(), "the test split is empty: test fraction 0.05 of 5 patients") {
		t.Errorf("test fraction 0.05: err = %v", err)
	}
	o.TestFraction = 0
	sum, err := Prepare(root, filepath.Join(t.TempDir(), "b"), o, nil)
	if err != nil {
		t.Fatalf("test fraction 0: %v", err)
	}
	if c := sum.Slices; c.TestHealthy+c.TestPathological != 0 || c.TrainHealthy == 0 {
		t.Errorf("test fraction 0: counts %+v", c)
	}
	sf := filepath.Join(t.TempDir(), "split.csv")
	os.WriteFile(sf, []byte("patient,split\nP01,train\nP02,train\nP03,val\nP04,train\nP05,train\n"), 0o644)
	o = fixtureOptions()
	o.SplitFile = sf
	if _, err := Prepare(root, filepath.Join(t.TempDir(), "c"), o, nil); err == nil ||
		!strings.Contains(err.Error(), sf) || !strings.Contains(err.Error(), "test split") {
		t.Errorf("split file without test rows: err = %v", err)
	}
	o.TestFraction = 0
	if _, err := Prepare(root, filepath.Join(t.TempDir(), "d"), o, nil); err != nil {
		t.Errorf("split file without test rows, test fraction 0: %v", err)
	}
	// Test patients that give no slice: P02 (discarded slices only) and a
	// patient whose files are broken.
	os.WriteFile(sf, []byte("patient,split\nP01,train\nP02,test\nP03,train\nP07,test\n"), 0o644)
	root2 := t.TempDir()
	writeFixture(t, root2, true, []fixturePatient{fixturePatients[0], fixturePatients[1], fixturePatients[2], fixturePatients[6]})
	o = fixtureOptions()
	o.SplitFile = sf
	o.SliceMin, o.SliceMax = 8, 12 // P02's tumour (20 px) spans them all: discarded; P07 lacks a file
	out := filepath.Join(t.TempDir(), "e")
	_, err = Prepare(root2, out, o, nil)
	if err == nil || !strings.Contains(err.Error(), "no slice in the test split") || !strings.Contains(err.Error(), "P07") {
		t.Errorf("test patients without slices: err = %v", err)
	}
	if _, err := ReadSummary(out); err == nil {
		t.Error("a set without test slices was marked prepared")
	}
}

// TestCheckSplit checks the split names.
func TestCheckSplit(t *testing.T) {
	for _, s := range []string{Train, Val, Test} {
		if err := CheckSplit(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"", "foo", "Test", " test"} {
		if err := CheckSplit(s); err == nil || !strings.Contains(err.Error(), `want "train", "val" or "test"`) {
			t.Errorf("%q: err = %v", s, err)
		}
	}
}

// TestNpyHugeHeaders checks .npy headers that describe absurd sizes: each is
// refused at once, naming the file, without reading or allocating (a sparse
// file stands in for a large one).
func TestNpyHugeHeaders(t *testing.T) {
	dir := t.TempDir()
	hdr := func(descr, shape string) []byte {
		return npyBytes(1, "{'descr': '"+descr+"', 'fortran_order': False, 'shape': ("+shape+"), }", nil)
	}
	cases := []struct {
		name  string
		b     []byte
		size  int64 // sparse length, 0: as written
		descr string
		want  string
	}{
		{"overflow.npy", hdr("<f4", "9223372036854775807, 9223372036854775807, 2, 4"), 0, "<f4", "a row of more than"},
		{"overflow2.npy", hdr("<f4", "9223372036854775807, 4, 4, 4"), 0, "<f4", "more bytes than any file holds"},
		{"bigrow.npy", hdr("<f4", "1, 100000, 100000, 4"), 0, "<f4", "a row of more than 268435456 bytes"},
		{"short.npy", hdr("<f4", "100000, 240, 240, 4"), 0, "<f4", "(truncated)"},
		{"long.npy", hdr("|u1", "2, 3, 4"), 4 << 30, "|u1", "bytes after the data"},
		{"neg.npy", hdr("|u1", "2, -3, 4"), 0, "|u1", "bad shape"},
		{"empty-rows.npy", hdr("|u1", "1, 0"), 0, "|u1", "rows of no element"}, // found by FuzzNpy
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.b, 0o644)
		if c.size > 0 {
			if err := os.Truncate(p, c.size); err != nil {
				t.Skipf("cannot make a sparse file: %v", err)
			}
		}
		item := 4
		if c.descr == "|u1" {
			item = 1
		}
		start := time.Now()
		a, err := openNpy(p, c.descr, item)
		if err == nil {
			a.close()
		}
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", c.name, d)
		}
	}
}

// TestReadMaskNpyBounded reads masks from a 4 GB file with a tiny header and
// from a header describing 10^10 pixels: both are refused at once, the file
// not read (the reader used to read the whole file first).
func TestReadMaskNpyBounded(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.npy")
	os.WriteFile(long, npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", make([]byte, 6)), 0o644)
	if err := os.Truncate(long, 4<<30); err != nil {
		t.Skipf("cannot make a sparse file: %v", err)
	}
	huge := filepath.Join(dir, "huge.npy")
	b := npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (100000, 100000), }", nil)
	os.WriteFile(huge, b, 0o644)
	os.Truncate(huge, int64(len(b))+100000*100000)
	for _, c := range []struct{ path, want string }{
		{long, "bytes after the data"},
		{huge, "more than the 33554432 pixels"},
	} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, _, _, err := ReadMaskNpy(c.path)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.path, err, c.want)
		}
		if d, grown := time.Since(start), after.TotalAlloc-before.TotalAlloc; d > time.Second || grown > 16<<20 {
			t.Errorf("%s: took %v and %d MB", c.path, d, grown>>20)
		}
	}
}

// TestCSVRejects checks the checks added to the split.csv and slices.csv
// readers: an empty patient ID, a negative slice or pixel count, and a file
// over maxCSVBytes (sparse here; prepare.json too) are errors naming the
// file.
func TestCSVRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	p := write("split.csv", "patient,split\nP01,train\n  ,test\n")
	if _, err := ReadSplitCSV(p); err == nil || !strings.Contains(err.Error(), p+": line 3: empty patient ID") {
		t.Errorf("empty patient ID: err = %v", err)
	}
	const head = "index,patient,grade,split,slice,class,tumour_pixels\n"
	for _, row := range []string{"0,P01,HGG,train,-1,healthy,0\n", "0,P01,HGG,train,3,healthy,-5\n", "0,,HGG,train,3,healthy,0\n"} {
		p := write("slices.csv", head+row)
		if _, err := readSlicesCSV(p); err == nil || !strings.Contains(err.Error(), p+": line 2 is malformed") {
			t.Errorf("row %q: err = %v", row, err)
		}
	}
	big := write("big.csv", "patient,split\n")
	if err := os.Truncate(big, maxCSVBytes+1); err != nil {
		t.Skip(err)
	}
	for _, read := range []func(string) error{
		func(p string) error { _, err := ReadSplitCSV(p); return err },
		func(p string) error { _, err := readSlicesCSV(p); return err },
		func(p string) error {
			os.Rename(p, filepath.Join(dir, SummaryFile))
			defer os.Rename(filepath.Join(dir, SummaryFile), p)
			_, err := ReadSummary(dir)
			return err
		},
	} {
		start := time.Now()
		if err := read(big); err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "64 MiB") || time.Since(start) > time.Second {
			t.Errorf("a 64 MiB metadata file: err = %v after %v", err, time.Since(start))
		}
	}
}

// TestDefaultWorkersBoundMemory: the default worker count never exceeds the
// two patients that keep prepare and phantom under 2 GB (measured: about
// 1.2 and 1.3 GB with two at 240x240x155), whatever the core count, and
// more workers come with a note on their memory. Before, the default was
// the core count: 16 cores would have held about 9 GB.
func TestDefaultWorkersBoundMemory(t *testing.T) {
	if w := DefaultWorkers(); w < 1 || w > 2 {
		t.Errorf("DefaultWorkers() = %d, want 1 or 2", w)
	}
	if DefaultOptions().Workers != DefaultWorkers() {
		t.Errorf("DefaultOptions().Workers = %d, want DefaultWorkers()", DefaultOptions().Workers)
	}
	if n := WorkerMemoryNote(2); n != "" {
		t.Errorf("note for 2 workers: %q", n)
	}
	if n := WorkerMemoryNote(8); !strings.Contains(n, "8 workers") || !strings.Contains(n, "4.8 GB") {
		t.Errorf("note for 8 workers: %q", n)
	}
}
