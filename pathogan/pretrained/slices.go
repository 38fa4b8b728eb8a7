package pretrained

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/gob"
	"fmt"
)

//go:generate go run gen_slices.go

// slicesFile holds the example slices (see Slices), written by gen_slices.go.
//
//go:embed slices.gob.gz
var slicesFile []byte

// Roles of the example slices.
const (
	RoleLargest  = "pathological, largest tumour"
	RoleMedian   = "pathological, median tumour"
	RoleHealthy  = "healthy"
	RoleHealthy2 = "healthy, second"
)

// Slice is a prepared 64 px slice of the built-in phantom, shipped beside the
// model so that a first picture needs no data: normalised as `pathogan
// prepare` writes slices, in the model's layout.
type Slice struct {
	// Role says which slice it is (RoleLargest, ...); Name its patient and
	// axial index ("Phantom_HGG_0007, slice 92").
	Role, Name string
	// Size is the height and width, Channels the number of channels
	// (FLAIR, T1, T1CE, T2).
	Size, Channels int
	// Image is [Size][Size][Channels]; Label is [Size][Size], BraTS labels
	// (0 background, 1 necrosis, 2 oedema, 4 enhancing rim).
	Image []float32
	Label []uint8
}

// Slices returns the example slices: from the test patients of the 8 phantom
// patients the notebooks make (seed 1, prepared at 64 px), the pathological
// slices with the largest and the median tumour and two healthy slices.
func Slices() ([]Slice, error) {
	zr, err := gzip.NewReader(bytes.NewReader(slicesFile))
	if err != nil {
		return nil, fmt.Errorf("pretrained: example slices: %w", err)
	}
	var out []Slice
	if err := gob.NewDecoder(zr).Decode(&out); err != nil {
		return nil, fmt.Errorf("pretrained: example slices: %w", err)
	}
	for _, s := range out {
		if len(s.Image) != s.Size*s.Size*s.Channels || len(s.Label) != s.Size*s.Size {
			return nil, fmt.Errorf("pretrained: example slice %q: %d image values and %d labels for %d×%d×%d",
				s.Name, len(s.Image), len(s.Label), s.Size, s.Size, s.Channels)
		}
	}
	return out, nil
}

// SliceByRole returns the example slice with the given role.
func SliceByRole(role string) (Slice, error) {
	all, err := Slices()
	if err != nil {
		return Slice{}, err
	}
	for _, s := range all {
		if s.Role == role {
			return s, nil
		}
	}
	return Slice{}, fmt.Errorf("pretrained: no example slice %q", role)
}
