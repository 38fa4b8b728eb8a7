// Package pretrained ships a trained PathoGAN inside the module, so that
// notebooks and programs can segment, inpaint and sample pathologies without
// training first: the generators (ΓA, ∆B, EA, ZB) in float32 of the `small`
// preset (64×64 px, four channels FLAIR, T1, T1CE, T2 normalised as
// `pathogan prepare` does), trained by the main job (`pathogan reproduce`
// with its defaults, at commit 6f33fa8) on the built-in phantom and chosen
// among its checkpoints by the job's selection rule (docs/results.md gives
// its scores, docs/model.md how its settings were chosen).
package pretrained

import (
	_ "embed"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/pathogan"
)

// FileName is the name of the shipped model file in this package's folder.
const FileName = "pathogan-small-64.ckpt"

//go:embed pathogan-small-64.ckpt
var model []byte

// PathoGAN loads the shipped model for inference on backend b. Its Cfg says
// the size and channels it takes (Size 64, 4 channels) and Step the training
// step it was taken at.
func PathoGAN(b backends.Backend) (*pathogan.Inference, error) {
	return pathogan.LoadInferenceBytes(b, model, "pretrained/"+FileName)
}
