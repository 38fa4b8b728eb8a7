package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/pathogan-go/pathogan/data/nifti"
)

// infoReport is what `pathogan info` prints.
type infoReport struct {
	File      string    `json:"file"`
	Version   int       `json:"nifti_version"`
	Shape     []int     `json:"shape"`
	Datatype  string    `json:"datatype"`
	ByteOrder string    `json:"byte_order"`
	VoxelSize []float64 `json:"voxel_size"`
	SclSlope  float64   `json:"scl_slope"`
	SclInter  float64   `json:"scl_inter"`
	Scaled    bool      `json:"scaled"`
	QformCode int       `json:"qform_code"`
	SformCode int       `json:"sform_code"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"`
	Mean      float64   `json:"mean"`
}

func runInfo(args []string) error {
	fs := newFlags("info", "FILE.nii[.gz] [--json]")
	asJSON := fs.Bool("json", false, "print one JSON object (keys shape, datatype, min, max, mean, ...)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef(fs, "want one NIfTI file, got %d arguments", len(files))
	}
	im, err := nifti.ReadFile(files[0])
	if err != nil {
		return err
	}
	h := im.Header
	lo, hi, mean := im.Stats()
	r := infoReport{File: files[0], Version: h.Version, Shape: im.Shape(), Datatype: h.Datatype.String(),
		ByteOrder: h.ByteOrderName(), VoxelSize: h.VoxelSize(), SclSlope: h.SclSlope, SclInter: h.SclInter,
		Scaled: h.Scaled(), QformCode: h.QformCode, SformCode: h.SformCode, Min: lo, Max: hi, Mean: mean}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Printf("file        %s\n", r.File)
	fmt.Printf("format      NIfTI-%d, %s\n", r.Version, r.ByteOrder)
	fmt.Printf("dims        %v\n", r.Shape)
	fmt.Printf("datatype    %s\n", r.Datatype)
	fmt.Printf("voxel size  %v (pixdim[1..3])\n", r.VoxelSize)
	if r.Scaled {
		fmt.Printf("scaling     value = %g * stored + %g\n", r.SclSlope, r.SclInter)
	} else {
		fmt.Printf("scaling     none (scl_slope %g)\n", r.SclSlope)
	}
	fmt.Printf("qform/sform codes %d / %d\n", r.QformCode, r.SformCode)
	fmt.Printf("values      min %.7g  max %.7g  mean %.8g (after scaling)\n", r.Min, r.Max, r.Mean)
	return nil
}
