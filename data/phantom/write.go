package phantom

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/pathogan-go/pathogan/data/nifti"
)

// Modalities lists the BraTS file suffixes of the four images, in Patient
// field order.
var Modalities = []string{"flair", "t1", "t1ce", "t2"}

// PatientDir returns the folder of patient p under a data-set root:
// dir/<Grade>/<ID>.
func PatientDir(dir string, p *Patient) string {
	return filepath.Join(dir, p.Grade, p.ID)
}

// healthyTag is the infix of the healthy counterpart's files:
// <ID>_healthy_{flair,t1,t1ce,t2}.nii.gz.
const healthyTag = "healthy_"

// WriteBraTS writes p in the BraTS 2017 layout:
// dir/<Grade>/<ID>/<ID>_{flair,t1,t1ce,t2}.nii.gz (int16) and <ID>_seg.nii.gz
// (uint8), and when p holds its healthy counterpart also
// <ID>_healthy_{flair,t1,t1ce,t2}.nii.gz (int16).
func WriteBraTS(dir string, p *Patient) error {
	pd := PatientDir(dir, p)
	if err := os.MkdirAll(pd, 0o755); err != nil {
		return fmt.Errorf("phantom: %w", err)
	}
	shape := []int{p.Shape[0], p.Shape[1], p.Shape[2]}
	writeInt16 := func(name string, img []float32) error {
		path := filepath.Join(pd, name)
		im, err := nifti.FromFloat32(shape, nifti.Int16, img)
		if err != nil {
			return fmt.Errorf("phantom: %s: %w", path, err)
		}
		if err := nifti.WriteFile(path, im); err != nil {
			return fmt.Errorf("phantom: %w", err)
		}
		return nil
	}
	for i, img := range [][]float32{p.FLAIR, p.T1, p.T1CE, p.T2} {
		if err := writeInt16(p.ID+"_"+Modalities[i]+".nii.gz", img); err != nil {
			return err
		}
	}
	if p.HasHealthy() {
		for i, img := range p.Healthy {
			if err := writeInt16(p.ID+"_"+healthyTag+Modalities[i]+".nii.gz", img); err != nil {
				return err
			}
		}
	}
	path := filepath.Join(pd, p.ID+"_seg.nii.gz")
	seg := make([]float32, len(p.Seg))
	for i, l := range p.Seg {
		seg[i] = float32(l)
	}
	im, err := nifti.FromFloat32(shape, nifti.Uint8, seg)
	if err != nil {
		return fmt.Errorf("phantom: %s: %w", path, err)
	}
	if err := nifti.WriteFile(path, im); err != nil {
		return fmt.Errorf("phantom: %w", err)
	}
	return nil
}

// Write generates and writes patients 0..cfg.Patients-1 under dir (see
// WriteBraTS), up to workers at a time (at least 1). The files do not depend
// on workers. progress, if not nil, is called after each patient with the
// number done so far; calls are serialised. On failure Write stops starting
// new patients and returns the error of the lowest failing index.
func Write(dir string, cfg Config, workers int, progress func(done, total int)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Patients < 1 {
		return fmt.Errorf("phantom: Config.Patients = %d, want >= 1", cfg.Patients)
	}
	if _, err := loadAnatomy(cfg.Anatomy); err != nil {
		return err
	}
	workers = max(1, min(workers, cfg.Patients))
	errs := make([]error, cfg.Patients)
	var (
		mu     sync.Mutex
		next   int
		done   int
		failed bool
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if failed || next >= cfg.Patients {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				p, err := Generate(cfg, i)
				if err == nil {
					err = WriteBraTS(dir, p)
				}
				mu.Lock()
				if err != nil {
					errs[i] = err
					failed = true
				} else {
					done++
					if progress != nil {
						progress(done, cfg.Patients)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
