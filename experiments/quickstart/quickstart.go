// Package quickstart makes what the notebooks and `pathogan reproduce` start
// from, reusing whatever an earlier run left in the folder: the phantom
// patients, the prepared slice set, and trained runs of PathoGAN and of the
// U-Net baseline. It prints nothing; long steps report through callbacks.
package quickstart

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/phantom"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/training"
	"github.com/pathogan-go/pathogan/pathogan/unet"
)

// Progress reports a long step: stage ("phantom", "prepare"), done of total.
type Progress func(stage string, done, total int)

// completeMarker marks a phantom folder whose patients were all written.
const completeMarker = ".complete"

// Phantom writes patients synthetic patients with seed into dir (the BraTS
// layout, with each patient's healthy counterpart, the ground truth for
// inpainting) unless dir already holds a complete phantom of the same
// settings, and returns dir.
func Phantom(dir string, patients int, seed uint64, progress Progress) (string, error) {
	marker := filepath.Join(dir, completeMarker)
	want := fmt.Sprintf("patients %d seed %d healthy\n", patients, seed)
	if b, err := os.ReadFile(marker); err == nil && string(b) == want {
		return dir, nil
	}
	cfg := phantom.DefaultConfig()
	cfg.Patients, cfg.Seed, cfg.Healthy = patients, seed, true
	if err := phantom.Write(dir, cfg, data.DefaultWorkers(), func(done, total int) {
		if progress != nil {
			progress("phantom", done, total)
		}
	}); err != nil {
		return "", err
	}
	return dir, os.WriteFile(marker, []byte(want), 0o644)
}

// Prepare prepares the BraTS-layout folder src at size px into out (the
// paper's other defaults, split seed seed), or reuses out when it was
// prepared from src with the same options, and opens it.
func Prepare(src, out string, size int, seed uint64, progress Progress) (*data.Set, *data.Summary, error) {
	opt := data.DefaultOptions()
	opt.Size, opt.Seed = size, seed
	return PrepareWith(src, out, opt, progress)
}

// PrepareWith is Prepare with every option given.
func PrepareWith(src, out string, opt data.Options, progress Progress) (*data.Set, *data.Summary, error) {
	sum, err := data.Prepare(src, out, opt, func(done, total int) {
		if progress != nil {
			progress("prepare", done, total)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	set, err := data.Open(out)
	return set, sum, err
}

// PhantomSet is Phantom and Prepare: patients phantom patients under
// dir/phantom, prepared at size px into dir/slices<size>.
func PhantomSet(dir string, patients int, seed uint64, size int, progress Progress) (*data.Set, error) {
	src, err := Phantom(filepath.Join(dir, "phantom"), patients, seed, progress)
	if err != nil {
		return nil, err
	}
	set, _, err := Prepare(src, filepath.Join(dir, fmt.Sprintf("slices%d", size)), size, seed, progress)
	return set, err
}

// PathoGAN trains cfg for steps into runDir, continuing from the newest
// checkpoint there (nothing is trained when it is already at steps), and
// returns the trained model for inference.
func PathoGAN(b backends.Backend, set *data.Set, cfg pathogan.Config, runDir string, steps int, progress func(training.Progress)) (*pathogan.Inference, error) {
	if _, err := pathogan.Train(b, set, cfg, runDir, training.RunOptions{Steps: steps, Keep: 2, Resume: true}, progress); err != nil {
		return nil, err
	}
	return pathogan.LoadInference(b, runDir)
}

// UNet is PathoGAN's counterpart for the supervised baseline.
func UNet(b backends.Backend, set *data.Set, cfg unet.Config, runDir string, steps int, progress func(training.Progress)) (*unet.Inference, error) {
	if _, err := unet.Train(b, set, cfg, runDir, training.RunOptions{Steps: steps, Keep: 2, Resume: true}, progress); err != nil {
		return nil, err
	}
	return unet.LoadInference(b, runDir)
}
