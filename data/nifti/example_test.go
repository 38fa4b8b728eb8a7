package nifti_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pathogan-go/pathogan/data/nifti"
)

func ExampleReadFile() {
	dir, err := os.MkdirTemp("", "nifti-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// A 4×3×2 int16 volume whose voxel i (x fastest) holds i, gzip-compressed.
	vals := make([]float32, 4*3*2)
	for i := range vals {
		vals[i] = float32(i)
	}
	im, err := nifti.FromFloat32([]int{4, 3, 2}, nifti.Int16, vals)
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(dir, "tiny.nii.gz")
	if err := nifti.WriteFile(path, im); err != nil {
		fmt.Println(err)
		return
	}

	back, err := nifti.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	lo, hi, mean := back.Stats()
	fmt.Println("dims", back.Shape(), back.Header.Datatype, "voxel size", back.Header.VoxelSize())
	fmt.Println("voxel (1, 2, 1) =", back.At(1+4*2+4*3*1), "range", lo, hi, "mean", mean)
	// Output:
	// dims [4 3 2] int16 voxel size [1 1 1]
	// voxel (1, 2, 1) = 21 range 0 23 mean 11.5
}

func ExampleRead() {
	// Read takes any io.Reader (here the bytes of an encoded image); the
	// name only labels errors.
	im, _ := nifti.New([]int{2, 2}, nifti.Uint8)
	b, _ := im.Encode()
	back, err := nifti.Read(bytes.NewReader(b), "in-memory.nii")
	fmt.Println(back.Shape(), err)

	// A damaged file is an error that names it.
	_, err = nifti.Read(bytes.NewReader(b[:100]), "cut.nii")
	fmt.Println(err)
	// Output:
	// [2 2] <nil>
	// cut.nii: truncated header: file is 100 bytes long, a NIfTI-1 header needs 348
}
