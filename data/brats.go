package data

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Modality is one of the four MR sequences of a BraTS scan, in the channel
// order the toolkit uses everywhere: FLAIR, T1, T1CE, T2.
type Modality int

// The four modalities, in channel order.
const (
	FLAIR Modality = iota
	T1
	T1CE
	T2
	// NumModalities is the number of image channels.
	NumModalities = 4
)

// String returns the modality's BraTS 2017 file suffix ("flair", "t1", ...).
func (m Modality) String() string {
	return [...]string{"flair", "t1", "t1ce", "t2"}[m]
}

// modalitySuffixes maps the file-name suffixes used by the BraTS releases to
// modalities: 2017-2021 use flair/t1/t1ce/t2, 2023 uses t2f/t1n/t1c/t2w.
var modalitySuffixes = map[string]Modality{
	"flair": FLAIR, "t2f": FLAIR,
	"t1": T1, "t1n": T1,
	"t1ce": T1CE, "t1c": T1CE,
	"t2": T2, "t2w": T2,
}

// PatientFiles are the files of one BraTS patient.
type PatientFiles struct {
	// ID is the patient folder's name, e.g. "Brats17_TCIA_101_1".
	ID string
	// Grade is "HGG" or "LGG" in the 2017 layout, "" when the layout does not say.
	Grade string
	// Dir is the patient folder.
	Dir string
	// Images are the four scans, indexed by Modality; Seg is the label volume.
	Images [NumModalities]string
	Seg    string
	// Healthy are the optional healthy counterparts of the four scans
	// (<id>_healthy_<mod>.nii.gz, written by package data/phantom: the
	// same patient without the tumour), indexed by Modality; all empty
	// unless all four exist.
	Healthy [NumModalities]string
}

// HasHealthy reports whether p has the healthy counterparts of all four
// scans.
func (p PatientFiles) HasHealthy() bool {
	for _, f := range p.Healthy {
		if f == "" {
			return false
		}
	}
	return true
}

// Skipped records a patient folder (or file) left out, and why.
type Skipped struct {
	Patient string
	Reason  string
}

// scanFileRe splits "<id>_<suffix>.nii[.gz]" (or "-<suffix>").
var scanFileRe = regexp.MustCompile(`^(.+)[_-]([A-Za-z0-9]+)\.nii(\.gz)?$`)

// Discover finds BraTS patients under root, in either layout:
//
//   - BraTS 2017: root/HGG/<id>/<id>_flair.nii.gz (and _t1, _t1ce, _t2, _seg),
//     root/LGG/<id>/...;
//   - later releases: root/<id>/<id>_<mod>.nii.gz, e.g. BraTS2021_00000; the
//     2023 suffixes t2f, t1n, t1c, t2w are understood too.
//
// A folder counts as a patient folder when it holds at least one file named
// after the folder with a known suffix. Patient folders that miss a modality or
// the segmentation are returned in skipped with the reason. The optional
// healthy counterparts <id>_healthy_<mod>.nii.gz are recorded in
// PatientFiles.Healthy when all four exist; missing ones are not an error. Patients are
// sorted by ID. It returns an error only when root cannot be read or holds no
// patient folder at all.
func Discover(root string) (patients []PatientFiles, skipped []Skipped, err error) {
	var dirs []string
	var grades []string
	top, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range top {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		dir := filepath.Join(root, name)
		up := strings.ToUpper(name)
		if up == "HGG" || up == "LGG" {
			sub, err := os.ReadDir(dir)
			if err != nil {
				skipped = append(skipped, Skipped{name, fmt.Sprintf("cannot read %s: %v", dir, err)})
				continue
			}
			for _, s := range sub {
				if s.IsDir() {
					dirs = append(dirs, filepath.Join(dir, s.Name()))
					grades = append(grades, up)
				}
			}
			continue
		}
		dirs = append(dirs, dir)
		grades = append(grades, "")
	}
	seen := map[string]string{}
	for i, dir := range dirs {
		p, ok, reason := patientIn(dir, grades[i])
		switch {
		case !ok && reason == "":
			continue // not a patient folder
		case !ok:
			skipped = append(skipped, Skipped{filepath.Base(dir), reason})
		case seen[p.ID] != "":
			skipped = append(skipped, Skipped{p.ID, fmt.Sprintf("%s: same patient ID as %s", dir, seen[p.ID])})
		default:
			seen[p.ID] = dir
			patients = append(patients, p)
		}
	}
	sort.Slice(patients, func(i, j int) bool { return patients[i].ID < patients[j].ID })
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Patient < skipped[j].Patient })
	if len(patients) == 0 && len(skipped) == 0 {
		return nil, nil, fmt.Errorf("%s: no BraTS patient folders found (want HGG/<id>/<id>_flair.nii.gz ... or <id>/<id>_flair.nii.gz ...)", root)
	}
	return patients, skipped, nil
}

// patientIn looks at one folder. ok is false with an empty reason when the
// folder is not a patient folder at all.
func patientIn(dir, grade string) (p PatientFiles, ok bool, reason string) {
	p, found, err := scanFolder(dir, grade)
	switch {
	case err != nil:
		return p, false, err.Error()
	case !found:
		return p, false, ""
	}
	missing := p.missing()
	if p.Seg == "" {
		missing = append(missing, "seg")
	}
	if len(missing) > 0 {
		return p, false, fmt.Sprintf("%s: missing %s", dir, strings.Join(missing, ", "))
	}
	return p, true, ""
}

// PatientIn finds the scans of the one patient folder dir by Discover's
// rules (<id>/<id>_<mod>.nii.gz, with any of the releases' suffixes), for
// segmenting it: the four modalities are required, the label volume
// (PatientFiles.Seg) and the healthy counterparts are optional.
func PatientIn(dir string) (PatientFiles, error) {
	p, found, err := scanFolder(dir, "")
	switch {
	case err != nil:
		return p, err
	case !found:
		return p, fmt.Errorf("%s: no scans named %s_<modality>.nii.gz (modality flair, t1, t1ce, t2 or t2f, t1n, t1c, t2w)", dir, p.ID)
	}
	if m := p.missing(); len(m) > 0 {
		return p, fmt.Errorf("%s: missing %s", dir, strings.Join(m, ", "))
	}
	return p, nil
}

// missing lists the modalities p lacks.
func (p PatientFiles) missing() []string {
	var missing []string
	for m, f := range p.Images {
		if f == "" {
			missing = append(missing, Modality(m).String())
		}
	}
	return missing
}

// scanFolder records the scans of one folder named after the patient.
// found is false when it holds none (not a patient folder); an error
// means it cannot be read or holds two files for one scan.
func scanFolder(dir, grade string) (p PatientFiles, found bool, err error) {
	id := filepath.Base(dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return p, false, fmt.Errorf("cannot read %s: %v", dir, err)
	}
	p = PatientFiles{ID: id, Grade: grade, Dir: dir}
	var dup []string
	for _, e := range entries {
		m := scanFileRe.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		path := filepath.Join(dir, e.Name())
		suffix := strings.ToLower(m[2])
		if m[1] == id+"_healthy" || m[1] == id+"-healthy" {
			if mod, known := modalitySuffixes[suffix]; known {
				if p.Healthy[mod] != "" {
					dup = append(dup, "healthy "+mod.String())
				}
				p.Healthy[mod] = path
			}
			continue
		}
		if m[1] != id {
			continue
		}
		if suffix == "seg" {
			found = true
			if p.Seg != "" {
				dup = append(dup, "seg")
			}
			p.Seg = path
			continue
		}
		mod, known := modalitySuffixes[suffix]
		if !known {
			continue
		}
		found = true
		if p.Images[mod] != "" {
			dup = append(dup, mod.String())
		}
		p.Images[mod] = path
	}
	if found && len(dup) > 0 {
		return p, found, fmt.Errorf("%s: more than one file for %s", dir, strings.Join(dup, ", "))
	}
	if !p.HasHealthy() {
		p.Healthy = [NumModalities]string{}
	}
	return p, found, nil
}
