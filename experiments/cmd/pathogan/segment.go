package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/experiments/segment"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/pretrained"
)

func runSegment(args []string) error {
	fs := newFlags("segment", "[--model RUNDIR|CHECKPOINT] (--in PATIENT_DIR | --flair F --t1 F --t1ce F --t2 F) --out DIR [--slices all|LO..HI]")
	model := fs.String("model", "", "PathoGAN or U-Net run folder or checkpoint file (default: the shipped PathoGAN, small preset at 64 px)")
	in := fs.String("in", "", "patient folder <id>/ holding <id>_flair.nii.gz, _t1, _t1ce, _t2 (or the 2023 suffixes); <id>_seg.nii.gz, if there, is outlined in the montage and scored")
	var files [data.NumModalities]*string
	for m := range data.NumModalities {
		mod := data.Modality(m)
		files[m] = fs.String(mod.String(), "", "the "+strings.ToUpper(mod.String())+" scan, instead of --in")
	}
	id := fs.String("id", "", "patient ID that names the outputs (default: the folder's name with --in, else the FLAIR file's name before its suffix)")
	out := fs.String("out", "", "folder for the outputs: <id>_<model>_prob.nii.gz, _seg.nii.gz, _healthy_<mod>.nii.gz (PathoGAN) and _montage.png")
	slices := fs.String("slices", "all", `axial slices segmented: "all" or LO..HI, inclusive (the paper's range is 60..100); others are 0 in the labelmap and unchanged in the healthy volumes`)
	crop := fs.Int("crop", 0, "the --crop the model's slices were prepared with (0: none, as the main job)")
	threshold := fs.Float64("threshold", 0, "probability from which a voxel is tumour (0: the model's own, 0.5 for the shipped model)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	var given [data.NumModalities]string
	nGiven := 0
	for m, f := range files {
		given[m] = *f
		if *f != "" {
			nGiven++
		}
	}
	switch {
	case *out == "":
		return usagef(fs, "--out is required")
	case *in != "" && nGiven > 0:
		return usagef(fs, "give either --in or the four scans (--flair, --t1, --t1ce, --t2), not both")
	case *in == "" && nGiven == 0:
		return usagef(fs, "--in or the four scans (--flair, --t1, --t1ce, --t2) are required")
	case *in == "" && nGiven < data.NumModalities:
		var missing []string
		for m, f := range given {
			if f == "" {
				missing = append(missing, "--"+data.Modality(m).String())
			}
		}
		return usagef(fs, "missing %s: give all four scans, or --in", strings.Join(missing, ", "))
	case *threshold < 0 || *threshold >= 1:
		return usagef(fs, "--threshold %g: want a value in (0, 1), or 0 for the model's own", *threshold)
	case *crop < 0 || *crop > data.MaxSliceSize:
		return usagef(fs, "--crop %d: want 0 (none) to %d", *crop, data.MaxSliceSize)
	}
	lo, hi, err := parseSlices(*slices)
	if err != nil {
		return usagef(fs, "--slices: %v", err)
	}
	p := data.PatientFiles{Images: given}
	if *in != "" {
		if p, err = data.PatientIn(*in); err != nil {
			return err
		}
	} else {
		p.ID = scanID(given[data.FLAIR])
	}
	if *id != "" {
		p.ID = *id
	}
	if p.ID == "" || strings.ContainsAny(p.ID, `/\`) {
		return usagef(fs, "--id %q: want a name without path separators", p.ID)
	}
	scans, err := data.LoadScans(p.Images)
	if err != nil {
		return err
	}
	var labels []uint8
	if p.Seg != "" {
		if labels, err = data.ReadLabels(p.Seg, scans.Shape); err != nil {
			return err
		}
	}
	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)
	var m *segment.Model
	if *model == "" {
		pm, err := pretrained.PathoGAN(b)
		if err != nil {
			return err
		}
		m = segment.FromPathoGAN(pm)
		m.Path = "the shipped model"
	} else {
		var skipped []error
		if m, skipped, err = segment.Load(b, *model); err != nil {
			return err
		}
		for _, e := range skipped {
			fmt.Fprintf(os.Stderr, "warning: passing over a damaged checkpoint: %v\n", e)
		}
	}
	total := hi - lo + 1
	if hi < 0 {
		total = scans.Shape[2] - lo
	}
	bar := progress.New(os.Stderr, "segment "+p.ID, max(total, 1))
	r, err := segment.Run(m, scans, segment.Options{SliceMin: lo, SliceMax: hi, Crop: *crop, Threshold: *threshold},
		func(done, _ int) { bar.Set(done, "slices") })
	bar.Finish()
	if err != nil {
		return err
	}
	f, err := segment.Write(*out, p.ID, r, labels)
	if err != nil {
		return err
	}
	fmt.Printf("%s (%s, step %d) on %s: %dx%dx%d, slices %d..%d, threshold %g\n",
		m.Name, m.Path, m.Step, p.ID, scans.Shape[0], scans.Shape[1], scans.Shape[2], r.SliceMin, r.SliceMax, r.Threshold)
	vox := 0
	for _, v := range r.Mask {
		vox += int(v)
	}
	fmt.Printf("tumour mask: %d voxels\n", vox)
	if labels != nil {
		d, _, _, _, err := r.Dice(labels, r.SliceMin, r.SliceMax)
		if err == nil {
			fmt.Printf("volumetric Dice against %s over slices %d..%d: %.4f\n", p.Seg, r.SliceMin, r.SliceMax, d)
		}
	}
	for _, path := range f.List() {
		fmt.Println("wrote", path)
	}
	return nil
}

// parseSlices reads --slices: "all" (hi -1) or "LO..HI".
func parseSlices(s string) (lo, hi int, err error) {
	if s == "all" {
		return 0, -1, nil
	}
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want all or LO..HI", s)
	}
	if lo, err = strconv.Atoi(a); err == nil {
		hi, err = strconv.Atoi(b)
	}
	if err != nil || lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("%q: want LO..HI with 0 <= LO <= HI", s)
	}
	return lo, hi, nil
}

// scanID is the patient ID of a scan's file name: the name before its
// _<modality>.nii[.gz] suffix.
func scanID(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".nii")
	if i := strings.LastIndexAny(base, "_-"); i > 0 {
		return base[:i]
	}
	return base
}
