package data

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/pathogan-go/pathogan/data/augment"
)

// SliceInfo describes one slice of a prepared set (a row of slices.csv).
type SliceInfo struct {
	Index   int
	Patient string
	Grade   string
	Split   string
	// Slice is the axial index z in the patient's volume.
	Slice int
	Class Class
	// TumourPixels counts the whole-tumour pixels (label > 0) at the native
	// resolution, the number the class was decided on.
	TumourPixels int
}

// Set is an open prepared slice set. Slices are read from disk on demand, so
// a set larger than memory can be used; a Set is safe for concurrent use.
type Set struct {
	Dir     string
	Info    []SliceInfo
	Summary *Summary
	// Height, Width and Channels are the shape of each image.
	Height, Width, Channels int

	images, labels *npyArray
	healthy        *npyArray // nil without HealthyFile
	bufs           sync.Pool
}

// Open opens the prepared set in dir (written by Prepare) and checks that its
// files agree with one another. It reads the metadata only, not the slices.
func Open(dir string) (*Set, error) {
	sum, err := ReadSummary(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a prepared slice set (run `pathogan prepare`): %w", dir, err)
	}
	s := &Set{Dir: dir, Summary: sum}
	if s.Info, err = readSlicesCSV(filepath.Join(dir, SlicesFile)); err != nil {
		return nil, err
	}
	if s.images, err = openNpy(filepath.Join(dir, ImagesFile), "<f4", 4); err != nil {
		return nil, err
	}
	if s.labels, err = openNpy(filepath.Join(dir, LabelsFile), "|u1", 1); err != nil {
		s.images.close()
		return nil, err
	}
	is, ls := s.images.shape, s.labels.shape
	if len(is) != 4 || len(ls) != 3 || is[0] != len(s.Info) || ls[0] != len(s.Info) || is[1] != ls[1] || is[2] != ls[2] {
		s.Close()
		return nil, fmt.Errorf("%s: images %v, labels %v and %d rows of %s do not agree", dir, is, ls, len(s.Info), SlicesFile)
	}
	s.Height, s.Width, s.Channels = is[1], is[2], is[3]
	hp := filepath.Join(dir, HealthyFile)
	if _, err := os.Stat(hp); err == nil {
		if s.healthy, err = openNpy(hp, "<f4", 4); err != nil {
			s.Close()
			return nil, err
		}
		if !slices.Equal(s.healthy.shape, is) {
			s.Close()
			return nil, fmt.Errorf("%s: shape %v, images %v: want the same", hp, s.healthy.shape, is)
		}
	}
	s.bufs.New = func() any { b := make([]byte, s.images.rowBytes); return &b }
	return s, nil
}

// Close closes the set's files.
func (s *Set) Close() error {
	err := s.images.close()
	if e := s.labels.close(); err == nil {
		err = e
	}
	if s.healthy != nil {
		if e := s.healthy.close(); err == nil {
			err = e
		}
	}
	return err
}

// HasHealthy reports whether the set holds the healthy counterparts of its
// images (HealthyFile, written by Prepare when every patient had them, as
// the synthetic patients of `pathogan phantom` do).
func (s *Set) HasHealthy() bool { return s.healthy != nil }

// Len returns the number of slices.
func (s *Set) Len() int { return len(s.Info) }

// Select returns the indices of the slices of the given split ("" = any) and
// class ("" = any), in order.
func (s *Set) Select(split string, class Class) []int {
	var out []int
	for _, in := range s.Info {
		if (split == "" || in.Split == split) && (class == "" || in.Class == class) {
			out = append(out, in.Index)
		}
	}
	return out
}

// Image reads slice i into dst (allocated when nil or too short) as
// [H][W][C] float32 and returns it.
func (s *Set) Image(i int, dst []float32) ([]float32, error) {
	return s.readFloat32(s.images, i, dst)
}

// Healthy reads the healthy counterpart of slice i into dst (allocated when
// nil or too short) as [H][W][C] float32, in the units of Image, and
// returns it. It returns an error when the set has no HealthyFile (see
// HasHealthy).
func (s *Set) Healthy(i int, dst []float32) ([]float32, error) {
	if s.healthy == nil {
		return nil, fmt.Errorf("%s: no %s: the set has no healthy counterparts (prepare it from patients with <id>_healthy_<mod>.nii.gz files, as `pathogan phantom` writes)", s.Dir, HealthyFile)
	}
	return s.readFloat32(s.healthy, i, dst)
}

// readFloat32 reads row i of a float32 array shaped like images.npy.
func (s *Set) readFloat32(a *npyArray, i int, dst []float32) ([]float32, error) {
	n := s.Height * s.Width * s.Channels
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	b := *bp
	if err := a.readRow(i, b); err != nil {
		return nil, err
	}
	for k := range dst {
		dst[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
	}
	return dst, nil
}

// Label reads slice i's label map into dst (allocated when nil or too
// short) as [H][W] uint8 and returns it.
func (s *Set) Label(i int, dst []uint8) ([]uint8, error) {
	n := s.Height * s.Width
	if cap(dst) < n {
		dst = make([]uint8, n)
	}
	dst = dst[:n]
	if err := s.labels.readRow(i, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// readSlicesCSV reads a set's slices.csv (see SliceInfo): the header, then
// one row per slice with its index in order, a non-empty patient, a known
// split and class, and non-negative slice and pixel counts.
func readSlicesCSV(path string) ([]SliceInfo, error) {
	f, err := openBounded(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSlicesCSV(f, path)
}

// parseSlicesCSV implements readSlicesCSV on r; path names it in errors.
func parseSlicesCSV(r io.Reader, path string) ([]SliceInfo, error) {
	rows, err := readCSV(r, path)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || len(rows[0]) != 7 || rows[0][0] != "index" {
		return nil, fmt.Errorf("%s: want the header index,patient,grade,split,slice,class,tumour_pixels", path)
	}
	out := make([]SliceInfo, 0, len(rows)-1)
	for li, r := range rows[1:] {
		idx, e1 := strconv.Atoi(r[0])
		z, e2 := strconv.Atoi(r[4])
		t, e3 := strconv.Atoi(r[6])
		c := Class(r[5])
		if e1 != nil || e2 != nil || e3 != nil || idx != li || z < 0 || t < 0 || r[1] == "" ||
			(c != Healthy && c != Pathological) || (r[3] != Train && r[3] != Val && r[3] != Test) {
			return nil, fmt.Errorf("%s: line %d is malformed: %q", path, li+2, r)
		}
		out = append(out, SliceInfo{Index: idx, Patient: r[1], Grade: r[2], Split: r[3], Slice: z, Class: c, TumourPixels: t})
	}
	return out, nil
}

// Sampler draws random training batches from a subset of a Set, with the
// paper's augmentation applied to each slice (one random draw shared by
// image and label). It is deterministic for a given seed; it is not safe for
// concurrent use.
type Sampler struct {
	set     *Set
	indices []int
	rng     *rand.Rand
	aug     *augment.Config
	img     []float32
	lab     []uint8
}

// saltSampler is the second word of a sampler's random stream, so that it
// draws independently of other streams of the same seed.
const saltSampler = 0xda7a

// NewSampler returns a sampler over the given slice indices (for example
// s.Select(Train, Healthy)). aug is the augmentation, nil for none.
func (s *Set) NewSampler(indices []int, seed uint64, aug *augment.Config) (*Sampler, error) {
	if len(indices) == 0 {
		return nil, fmt.Errorf("%s: no slices to sample from", s.Dir)
	}
	if aug != nil {
		if err := aug.Validate(); err != nil {
			return nil, err
		}
	}
	return &Sampler{set: s, indices: indices, rng: rand.New(rand.NewPCG(seed, saltSampler)), aug: aug}, nil
}

// Next fills images ([n][H][W][C]) and labels ([n][H][W]; may be nil) with n
// slices drawn uniformly with replacement, augmented, and returns the drawn
// slice indices.
func (sm *Sampler) Next(n int, images []float32, labels []uint8) ([]int, error) {
	s := sm.set
	per, perL := s.Height*s.Width*s.Channels, s.Height*s.Width
	if len(images) != n*per || (labels != nil && len(labels) != n*perL) {
		return nil, fmt.Errorf("batch of %d needs %d image and %d label values, got %d and %d", n, n*per, n*perL, len(images), len(labels))
	}
	drawn := make([]int, n)
	for b := range n {
		idx := sm.indices[sm.rng.IntN(len(sm.indices))]
		drawn[b] = idx
		var err error
		if sm.img, err = s.Image(idx, sm.img); err != nil {
			return nil, err
		}
		if sm.lab, err = s.Label(idx, sm.lab); err != nil {
			return nil, err
		}
		img, lab := sm.img, sm.lab
		if sm.aug != nil {
			if img, lab, _, err = augment.Augment(sm.rng, *sm.aug, img, s.Height, s.Width, s.Channels, lab); err != nil {
				return nil, err
			}
		}
		copy(images[b*per:(b+1)*per], img)
		if labels != nil {
			copy(labels[b*perL:(b+1)*perL], lab)
		}
	}
	return drawn, nil
}
