package pathogan

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/pathogan-go/pathogan/pathogan/nn"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// Config holds every hyperparameter of the model and its training. The names
// follow the paper: network shapes of section 2.4, loss weights of section
// 2.3. Choices the paper leaves open are named fields with their default and
// the reason in the comment. Config is saved with each checkpoint (as JSON),
// so a model is rebuilt from its checkpoint alone.
type Config struct {
	// Preset is the name of the preset the config started from.
	Preset string `json:"preset"`

	// Size is the image height and width; a multiple of 2^Downsamplings (the
	// paper's encoders downsample four times, to i = Size/16: 15 for 240).
	Size int `json:"size"`
	// Channels is the number of image channels n (4: FLAIR, T1, T1CE, T2).
	Channels int `json:"channels"`
	// Base is the width of the first convolution (the paper's 64); the other
	// widths are multiples of it as section 2.4 writes them (d128 = 2*Base, ...).
	Base int `json:"base"`
	// Z is the length of each encoding γA and δB (paper: 256).
	Z int `json:"z"`
	// ResBlocks is the number of residual blocks in EA and ZB (paper: 9).
	ResBlocks int `json:"res_blocks"`
	// DiscBase is the width of the discriminators' first layer (CycleGAN's
	// 70x70 PatchGAN: 64).
	DiscBase int `json:"disc_base"`
	// Downsamplings is the number of stride-2 convolutions in ΓA and ∆B, so
	// that E_A's layout map is i×i with i = Size/2^Downsamplings; E_A
	// mirrors it with Downsamplings-2 up-samplings before its residual
	// blocks, which run at Size/4 as section 2.4's ZB's do. Paper: 4 (i = 15 at 240 px).
	// At 32-64 px four down-samplings leave a 2×2-4×4 map, too small to
	// place a tumour: the scaled-down presets use 3 or 2 to keep i >= 8,
	// the paper's bottleneck structure at their size. 0 reads as 4.
	Downsamplings int `json:"downsamplings"`
	// DenseInit is the initialisation of the encoders' and E_A's dense
	// layers: "normal" draws N(0, 0.02²) as every other layer (CycleGAN's);
	// "fan_in" draws N(0, 1/fan_in) (LeCun). With N(0, 0.02²) and fan-ins of
	// 8-64, μ and log σ² of γA and δB start near 1e-3, the decoder sees
	// only noise in δB from the first step and learns to ignore it; "fan_in"
	// starts the encodings at unit scale. The paper does not say: "" reads as
	// "normal".
	DenseInit string `json:"dense_init"`
	// Upsample is how EA and ZB double the size (section 2.4's uf):
	// "transpose" is the paper's fractionally strided 3×3 convolution;
	// "resize" repeats each pixel 2×2 (nearest neighbour) and then applies a
	// 3×3 convolution of the same shape, which cannot leave the checkerboard
	// that a stride-2 transposed 3×3 kernel prints on its output, where
	// alternate pixels receive 4, 2 or 1 kernel taps (Odena et al., 2016);
	// "resize_zb" resizes in ZB only (GB's labelmap and inpainting p̂B) and
	// keeps EA's transposed convolutions (GA's sampled pathologies).
	// Resizing costs four times the transposed layer's FLOPs. Both resizing
	// modes remove p̂B's checkerboard; "resize" also narrowed GA's samples.
	// Over three seeds "resize_zb" kept test Dice within the seed spread and
	// put ŷA's inpainting error below the trivial baseline's in every seed
	// (docs/model.md, "The checkerboard in p̂B"), so the "small" preset
	// uses it; "mini" and "tiny" keep "transpose" (not measured at 32 px),
	// and "paper" keeps section 2.4's. "" reads as "transpose".
	Upsample string `json:"upsample"`
	// InpaintLoss is the error of eq. 11, the inpainting p̂X against xX outside the labelmap:
	// "l2" (or "") the paper's squared error, a Gaussian likelihood; "l1" the absolute error
	// (a Laplace likelihood, whose optimum is the conditional median rather than the mean).
	// Over the main job's checkpoints p̂B keeps half the healthy tissue's fine structure and
	// does not gain any with training (docs/model.md, "The inpainting's fine structure"). With
	// "l1" (one seed) p̂B was no sharper and the samples bunched closer, so no preset sets it.
	// Left out of the JSON when empty, so that checkpoints and configs without it stay as
	// they were.
	InpaintLoss string `json:"inpaint_loss,omitempty"`
	// InpaintScaleB multiplies GB's eq. 11 term, p̂B against xB outside l̂B, inside λVAE
	// (eq. 10 weighs eqs. 11-13 of both directions alike). Outside the labelmap nothing but
	// that term trains p̂B, so its weight against the GAN, cycle and relevancy terms that
	// shape ZB's features decides how much of xB's fine structure p̂B keeps, and how far p̂B
	// strays from healthy tissue outside the tumour. That distance matters to eq. 15: its
	// reward is the mean |xB - p̂B| under the labelmap, so wherever p̂B errs on healthy
	// tissue more than on the tumour, labelling that tissue pays. With ZB's blocks at full
	// size and weight 1, p̂B's error outside tumours rose late in a run of twice the
	// default length, the share of healthy pixels where it beat the tumour's rose from
	// 1.3 % to 4.5 %, GB's masks spread onto them and test Dice fell from 85.9 % to 74.9 %.
	// At 10 the run held, but GB's masks shrank: `segment`'s Dice on a phantom on a
	// 96-px grid fell to 0.57 in one seed. At 3 the twice-length run ended at 89.0 %, the
	// masks kept the tumours' size, and p̂B keeps 0.80 of xB's fine structure against
	// 0.68 (docs/model.md, "Why the long run breaks"), so "small" uses 3; the other
	// presets keep 1. 0 reads as 1, the paper's; left out of the JSON when 0.
	InpaintScaleB float64 `json:"inpaint_scale_b,omitempty"`
	// LabelCycleScaleA multiplies eq. 13's term of the B → A → B cycle, l̃A =
	// EA(ΓA(ŷA), δB) against l̂B, inside λVAE: the one term that asks GA to put
	// back, from δB = ∆B(l̂B ⊙ xB), the pathology GB cut out. As a mean over all
	// pixels it weighs the tumour's ~2 % of them little, and at 1 EA met it by
	// drawing no lesion at all from such codes (every model measured: the
	// labelmap stayed below 0.07 on all 64 test tumours, `inspect`'s "∆B's
	// code"). Nothing then tied δB to where real tumours lie, and the sampled
	// pathologies of one slice sat at one place. At 50 the codes of 77-80 % of
	// test tumours give a lesion 0.4-0.6 px from the tumour they came from,
	// and the samples' place spread rose from 2.6-3.8 px to 6.9-8.3 px, at a
	// cost of 2-3 points of test Dice (docs/model.md, "Where ∆B's code puts a
	// lesion"). "small" uses 50; the other presets keep 1 (not measured at
	// 32 px). 0 reads as 1, the paper's; left out of the JSON when 0.
	LabelCycleScaleA float64 `json:"label_cycle_scale_a,omitempty"`
	// ZBBlockScale is how much smaller than the image ZB's residual blocks run: 4 (section
	// 2.4: c7-b, d2b, d4b, nine R4b at Size/4), 2 (c7-b, d2b, nine R2b) or 1 (c7-b, nine
	// Rb). Each halving of the scale halves the width, so every block keeps its
	// multiply-adds. At 240 px and b = 64 the paper's blocks hold 60·60·256 numbers, four
	// times the image's 240·240·4, so ZB can carry every pixel of xB to p̂B; at 64 px and
	// b = 8 they hold 16·16·32, half the image's 64·64·4, and p̂B keeps about half of
	// xB's fine structure. At scale 1 (three seeds of the main job, docs/model.md, "The
	// main job with ZB at full size") p̂B kept 0.68 of it against 0.50, and test Dice rose
	// from 78.7 to 86.2 %, so "small" uses 1; "mini", "tiny" and "paper" keep 4. 0 reads as
	// 4; left out of the JSON when 0.
	ZBBlockScale int `json:"zb_block_scale,omitempty"`

	// LambdaGAN weights the LSGAN terms (eq. 7); the paper writes no weight: 1.
	LambdaGAN float64 `json:"lambda_gan"`
	// LambdaGANInpaint weights an LSGAN term on GB's inpainting p̂B itself (not in the
	// paper, where DA sees p̂B only inside l̂B, through ŷA): GB is rewarded when DA takes
	// the whole of p̂B for a healthy image, and DA learns p̂B as a fake. Outside the
	// labelmap eq. 11's error is otherwise all that trains p̂B, and an error rewards the
	// conditional mean, a blur. At 1 (900 steps) p̂B gained streaks rather than tissue and
	// ŷA's error inside tumours rose above the trivial baseline's, so no preset sets it
	// (docs/model.md, "What blurs the inpainting"). 0 (off) is the paper's; left out of the
	// JSON when 0.
	LambdaGANInpaint float64 `json:"lambda_gan_inpaint,omitempty"`
	// LambdaCC weights the cycle-consistency terms (eq. 8); paper: 5.
	LambdaCC float64 `json:"lambda_cc"`
	// LambdaVAE weights the VAE reconstruction terms (eq. 10); paper: 1.
	LambdaVAE float64 `json:"lambda_vae"`
	// LambdaIdt weights the identity loss on labelmaps (eq. 14); paper: 1.
	// The scaled-down presets use 0: with it, GA never learns to add a
	// pathology at 64 px. EA sees only γA and δB, not the image, and both
	// halves of the term (GA(xB, 0) and GB(xA) adding nothing) drive GA's
	// labelmaps to 0 in the first few hundred steps, where the sigmoid
	// saturates for good (docs/model.md, "Runs": with either half of the
	// term GA drew no pathology in any run).
	LambdaIdt float64 `json:"lambda_idt"`
	// LambdaR weights the relevancy loss (eq. 15); paper: 0.5.
	LambdaR float64 `json:"lambda_r"`
	// RelevancyScaleB multiplies λR in GB's relevancy term only (the
	// segmenting direction, eq. 15 on lB), leaving GA's, whose labelmaps
	// are the sampled pathologies, at λR. Paper: 1 (one λR for both). GB's
	// masks came out too large, most of all for small tumours; a larger λR
	// in both directions shrank them but killed GA's samples, while scaling
	// GB's term alone raised test Dice over three seeds and kept the samples
	// (docs/model.md, "Masks too large"). The small preset uses 4; paper,
	// mini and tiny keep 1 (not measured at 32 px).
	RelevancyScaleB float64 `json:"relevancy_scale_b"`
	// LambdaKL weights the KL terms (eq. 17); paper: 0.1.
	LambdaKL float64 `json:"lambda_kl"`
	// KLGammaCycle adds eq. 9's KL on γA also where ΓA encodes the healthy
	// translation ŷA in the B → A → B cycle, not only a real healthy xA.
	// Without it that γA is a code with no cost, and the reconstruction can
	// find the tumour's place in what GB left of it in ŷA instead of in δB:
	// GA then puts every sampled lesion of one slice at one place
	// (diagnose's place spread). The paper's eq. 9 names q(γA|xA) only; the
	// PyTorch specification (../shared/bench) puts a KL on ΓA(ŷA). small
	// uses it with DiversityFloor 0.1: over three seeds its samples' place
	// spread rose in each (2.5 to 5.6 px mean) and test Dice rose from
	// 76.8 ± 2.9 to 78.7 ± 0.3 % (docs/model.md, "Samples at one place");
	// the others do not (not measured at 32 px).
	KLGammaCycle bool `json:"kl_gamma_cycle"`
	// LogVarOffset is added to the log-variance half of ΓA's and ∆B's
	// output (the same as starting that half's bias at this value): with 0
	// the encodings start with σ = 1 around means near 0, so the code the
	// decoder is given is almost all reparameterisation noise and it learns
	// to ignore it (the posterior collapses before it forms). A negative
	// value starts the encoders nearly deterministic; the KL term then
	// widens σ as training goes, and ∆B keeps many more active units early
	// (docs/model.md, "Runs"). The paper does not say: 0 there.
	LogVarOffset float64 `json:"logvar_offset"`
	// LambdaLatent weights the latent regression of the A→B translation,
	// mean |μ(∆B(l̂A ⊙ ŷB)) - δB| with δB the drawn code: the pathology
	// GA adds must be one that ∆B, applied as section 2.2 applies it to a
	// previous translation, encodes back to the code it came from
	// (BicycleGAN's cLR-GAN term): nothing else in the objective asks GA's
	// output to depend on a drawn δB, since the cycle back through GB removes
	// whatever GA added. In the runs of docs/model.md the term stayed near its
	// chance level, so its effect is unmeasured; the scaled presets keep it
	// because the shipped model was trained with it.
	// Not in the paper: 0 there.
	LambdaLatent float64 `json:"lambda_latent"`
	// LambdaDiversity weights the mode-seeking term of the A→B translation
	// (Mao et al., MSGAN, 2019, in log form on labelmaps, with a floor):
	// max(0, log(DiversityFloor / (r + 1e-4))) with r = mean|l̂A(δ1) -
	// l̂A(δ2)| / mean|δ1 - δ2| for two codes drawn into the same healthy
	// images. It asks GA to draw different pathologies for different codes,
	// which also keeps its labelmap from dying out, and stops asking once
	// they differ by DiversityFloor. Not in the paper: 0 there. The scaled
	// presets use 0.1; small uses 0.5, because with relevancy_scale_b=4 its
	// samples narrowed to one tumour at one place at 0.1, and 0.5 drew varied
	// ones at the same test Dice (docs/model.md, "Samples alike").
	LambdaDiversity float64 `json:"lambda_diversity"`
	// DiversityFloor is r above which the mode-seeking term is 0. Two
	// tumours of the phantom's median area (70 px at 64 px) at different
	// places give mean|l1 - l2| ≈ 0.034 over a 64×64 slice, and two codes
	// mean|δ1 - δ2| ≈ 2/√π ≈ 1.13, so r ≈ 0.03; without a floor (log form
	// alone) GA's pathologies grew to several times the real area
	// (docs/model.md, "Runs", row p3). mini and tiny stop at 0.05; small at
	// 0.1, with KLGammaCycle, because at 0.05 GA met the floor by varying
	// one lesion's size at one place (docs/model.md, "Samples at one place").
	DiversityFloor float64 `json:"diversity_floor"`
	// DiversitySharpness k makes the mode-seeking term compare σ(k·logit), a
	// sharper labelmap, instead of l̂A = σ(logit): at k = 4 a pixel at 0.3
	// counts 0.03 and one at 0.9 counts 1.00, so faint background patterns
	// (40-75 % of the samples' labelmap difference, inspect's "difference
	// below") no longer meet the floor. Measured at 64 px with k = 4 and
	// diversity_floor 0.05, three seeds: the samples' place spread 6.0, 3.5
	// and 2.7 px against 3.8, 2.7 and 2.6 without, test Dice 86.6 ± 1.8 %
	// against 86.1 ± 0.6 % (docs/model.md, "Sharper labelmaps in the
	// mode-seeking term"): not a fix for the samples' place, so no preset
	// sets it. 0 reads as 1; left out of the JSON when 0. Not in the paper.
	DiversitySharpness float64 `json:"diversity_sharpness,omitempty"`
	// OmegaEpsilon is the ε > 0 in ω1 and ω2 (eqs. 11, 12), in pixels; not given
	// by the paper: 1.
	OmegaEpsilon float64 `json:"omega_epsilon"`
	// LabelNoise is the standard deviation of ε in lX = S(r0 + ε) (eq. 6)
	// during training; paper: 1. It is always 0 at test time.
	LabelNoise float64 `json:"label_noise"`
	// DiscLossScale multiplies the discriminators' LSGAN loss; CycleGAN halves
	// it to slow D relative to G: 0.5.
	DiscLossScale float64 `json:"disc_loss_scale"`
	// EMADecay, when above 0, keeps an exponential moving average of the
	// generators' weights during training (w̄ ← d·w̄ + (1 - d)·w after each
	// generator update, started at 0 and divided by 1 - d^t, as Adam's
	// moments are), and inference, evaluation, selection and export use the
	// average instead of the last weights (Karras et al., 2018; Yazıcı et
	// al., 2019). Training itself is unchanged. Off (0) in every preset: on
	// the run where it was tried, the average's gain over the raw weights
	// of the same checkpoints was within the spread between runs of the
	// default config (docs/model.md). Not in the paper.
	EMADecay float64 `json:"ema_decay"`

	// LearningRate is Adam's step size for both optimisers (CycleGAN: 2e-4).
	LearningRate float64 `json:"learning_rate"`
	// Beta1 and Beta2 are Adam's moment decays (CycleGAN: 0.5, 0.999).
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	// DecayFrom is the fraction of the training steps after which the learning
	// rate decays linearly to 0 (CycleGAN: constant for the first half: 0.5).
	DecayFrom float64 `json:"decay_from"`
	// PoolSize is the number of past fakes kept per domain for the
	// discriminators (CycleGAN: 50; 0 disables the pool).
	PoolSize int `json:"pool_size"`
	// Batch is the number of healthy and of pathological slices per step
	// (paper: 4).
	Batch int `json:"batch"`
	// Augment turns the paper's augmentation (section 2.5) on.
	Augment bool `json:"augment"`
	// Seed drives initialisation, sampling of batches, noise and the pool.
	Seed uint64 `json:"seed"`
	// ConvPrecision is the dtype PathoGAN's convolutions compute in: "" (or
	// "float32") the variables' float32; "bfloat16" rounds each
	// convolution's input and kernel to bfloat16 and widens its result back
	// to float32 (nn.SetConvDType), while the variables, the optimiser, the
	// norms and the losses stay float32. On an NVIDIA GPU that gives the
	// convolutions to cuDNN's bfloat16 tensor-core kernels, at twice TF32's
	// peak and with half the bytes in and out, for the GPU step time of
	// issue #12; whether training stays within tolerance at that precision
	// is for a GPU run to show. On the Go backend bfloat16 convolutions run
	// through GoMLX's generic executors, many times slower. Not in the paper.
	ConvPrecision string `json:"conv_precision,omitempty"`

	// Threshold turns labelmaps into masks for evaluation (0.5).
	Threshold float64 `json:"threshold"`
}

// Presets are the named configurations. "paper" is section 2.4 as written;
// the others keep its topology and scale the image size, widths, z and the
// number of residual blocks down for CPUs and tests.
var Presets = map[string]func() Config{
	// paper: 240x240, widths 64..1024, z = 256, i = 15, nine residual blocks.
	"paper": func() Config { return withDefaults("paper", 240, 64, 256, 9, 64) },
	// small: 64x64, widths / 8, z = 32, nine blocks (the PyTorch reference's
	// "--size 64 --base 8 --z 32 --res 9"), three down-samplings (i = 8),
	// GB's relevancy term at 4 λR (RelevancyScaleB), the mode-seeking term
	// at 0.5 with its floor at 0.1 (LambdaDiversity, DiversityFloor), ZB
	// up-sampling by resize-convolution (Upsample "resize_zb"), the KL on
	// ΓA(ŷA) (KLGammaCycle), ZB's residual blocks at full size
	// (ZBBlockScale 1), GB's eq. 11 term at 3 (InpaintScaleB) and the
	// B → A → B cycle's eq. 13 term at 50 (LabelCycleScaleA).
	"small": func() Config {
		c := scaled(withDefaults("small", 64, 8, 32, 9, 8), 3)
		c.RelevancyScaleB, c.LambdaDiversity, c.Upsample = 4, 0.5, "resize_zb"
		c.DiversityFloor, c.KLGammaCycle, c.ZBBlockScale, c.InpaintScaleB = 0.1, true, 1, 3
		c.LabelCycleScaleA = 50
		return c
	},
	// mini: 32x32, widths / 16, z = 16, three blocks, two down-samplings (i = 8).
	"mini": func() Config { return scaled(withDefaults("mini", 32, 4, 16, 3, 8), 2) },
	// tiny: 32x32, widths / 32, z = 8, one block, two down-samplings: for tests.
	"tiny": func() Config { return scaled(withDefaults("tiny", 32, 2, 8, 1, 4), 2) },
}

func withDefaults(name string, size, base, z, res, disc int) Config {
	return Config{Preset: name, Size: size, Channels: 4, Base: base, Z: z, ResBlocks: res, DiscBase: disc,
		LambdaGAN: 1, LambdaCC: 5, LambdaVAE: 1, LambdaIdt: 1, LambdaR: 0.5, RelevancyScaleB: 1, LambdaKL: 0.1,
		OmegaEpsilon: 1, LabelNoise: 1, DiscLossScale: 0.5,
		LearningRate: 2e-4, Beta1: 0.5, Beta2: 0.999, DecayFrom: 0.5, PoolSize: 50, Batch: 4, Augment: true,
		Seed: 1, Threshold: 0.5}
}

// scaled sets what the presets scaled down for CPUs change from section 2.4
// so that the model still does at their size what the paper's does at 240
// px (each field's comment says why): downs down-samplings in ΓA and ∆B, so
// that EA's layout map stays 8×8; dense layers initialised by fan-in; the
// encoders' log-variance started at -4; the latent regression and the
// mode-seeking term on GA's translations; no identity loss.
func scaled(c Config, downs int) Config {
	c.Downsamplings, c.DenseInit, c.LogVarOffset, c.LambdaLatent, c.LambdaIdt = downs, "fan_in", -4, 0.5, 0
	c.LambdaDiversity, c.DiversityFloor = 0.1, 0.05
	return c
}

// Section24 returns c with section 2.4's networks and objective: four
// down-samplings, N(0, 0.02) dense layers, no log-variance offset, the
// identity loss at weight 1, no latent regression or mode-seeking term,
// GB's relevancy term at λR, the transposed up-sampling layers and no KL on
// ΓA(ŷA) (what scaled() and the scaled presets change, undone). Sizes,
// widths and training settings stay.
// The PyTorch reference (experiments/torchref/pathogan_step.py) implements this
// form, so `pathogan bench` times it.
func (c Config) Section24() Config {
	c.Downsamplings, c.DenseInit, c.LogVarOffset, c.LambdaIdt, c.LambdaLatent, c.LambdaDiversity, c.DiversityFloor = 0, "", 0, 1, 0, 0, 0
	c.DiversitySharpness = 0
	c.RelevancyScaleB = 1
	c.Upsample = ""
	c.KLGammaCycle = false
	c.InpaintLoss = ""
	c.InpaintScaleB, c.ZBBlockScale, c.LambdaGANInpaint, c.LabelCycleScaleA = 0, 0, 0, 0
	return c
}

// PresetNames returns the presets' names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the named preset, or an error listing the known names.
func Preset(name string) (Config, error) {
	f, ok := Presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return f(), nil
}

// Downs returns the number of down-samplings of ΓA and ∆B (Downsamplings,
// with 0 read as the paper's 4).
func (c Config) Downs() int {
	if c.Downsamplings == 0 {
		return 4
	}
	return c.Downsamplings
}

// ZBDowns returns the number of down-samplings of ZB: log2 of ZBBlockScale,
// with 0 read as the paper's 4 (two).
func (c Config) ZBDowns() int {
	switch c.ZBBlockScale {
	case 1:
		return 0
	case 2:
		return 1
	}
	return 2
}

// orOne reads a weight whose 0 means the paper's 1 (InpaintScaleB,
// LabelCycleScaleA).
func orOne(v float64) float64 {
	if v == 0 {
		return 1
	}
	return v
}

// badScale says whether a multiplier field is negative, NaN or infinite.
func badScale(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }

// I returns the smallest spatial size of the encoders, Size/2^Downs (the
// paper's i: 240/16 = 15).
func (c Config) I() int { return c.Size >> c.Downs() }

// denseStd is the standard deviation of a dense layer's initial weights for
// a fan-in of in (see DenseInit).
func (c Config) denseStd(in int) float64 {
	if c.DenseInit == "fan_in" {
		return 1 / math.Sqrt(float64(in))
	}
	return nn.InitStd
}

// upsampleEA and upsampleZB are EA's and ZB's up-sampling layers (Upsample):
// "resize" or "transpose".
func (c Config) upsampleEA() string {
	if c.Upsample == "resize" {
		return "resize"
	}
	return "transpose"
}

func (c Config) upsampleZB() string {
	if c.Upsample == "resize" || c.Upsample == "resize_zb" {
		return "resize"
	}
	return "transpose"
}

// R returns the number of residual-generator outputs r = n + 1: the labelmap
// logit and one inpainting per channel.
func (c Config) R() int { return c.Channels + 1 }

// Validate checks the config, naming the first bad value.
func (c Config) Validate() error {
	switch {
	case c.Downsamplings != 0 && (c.Downsamplings < 2 || c.Downsamplings > 6):
		return fmt.Errorf("downsamplings %d: want 2 to 6 (0 for the paper's 4)", c.Downsamplings)
	case c.Size < 1<<c.Downs() || c.Size%(1<<c.Downs()) != 0:
		return fmt.Errorf("size %d: want a positive multiple of %d (2^downsamplings)", c.Size, 1<<c.Downs())
	case c.LambdaDiversity > 0 && !(c.DiversityFloor > 0):
		return fmt.Errorf("diversity_floor %g: want > 0 when lambda_diversity is set", c.DiversityFloor)
	case badScale(c.DiversitySharpness):
		return fmt.Errorf("diversity_sharpness %g: want >= 1 (0 reads as 1)", c.DiversitySharpness)
	case c.DiversitySharpness > 0 && c.DiversitySharpness < 1:
		return fmt.Errorf("diversity_sharpness %g: want >= 1 (0 reads as 1)", c.DiversitySharpness)
	case c.DenseInit != "" && c.DenseInit != "normal" && c.DenseInit != "fan_in":
		return fmt.Errorf("dense_init %q: want normal or fan_in", c.DenseInit)
	case c.Upsample != "" && c.Upsample != "transpose" && c.Upsample != "resize" && c.Upsample != "resize_zb":
		return fmt.Errorf("upsample %q: want transpose, resize or resize_zb", c.Upsample)
	case c.ConvPrecision != "" && c.ConvPrecision != "float32" && c.ConvPrecision != "bfloat16":
		return fmt.Errorf("conv_precision %q: want float32 or bfloat16", c.ConvPrecision)
	case c.InpaintLoss != "" && c.InpaintLoss != "l2" && c.InpaintLoss != "l1":
		return fmt.Errorf("inpaint_loss %q: want l2 or l1", c.InpaintLoss)
	case badScale(c.LabelCycleScaleA):
		return fmt.Errorf("label_cycle_scale_a %g: want a finite value >= 0 (0 for the paper's 1)", c.LabelCycleScaleA)
	case badScale(c.InpaintScaleB):
		return fmt.Errorf("inpaint_scale_b %g: want a finite value >= 0 (0 for the paper's 1)", c.InpaintScaleB)
	case c.ZBBlockScale != 0 && c.ZBBlockScale != 1 && c.ZBBlockScale != 2 && c.ZBBlockScale != 4:
		return fmt.Errorf("zb_block_scale %d: want 1, 2 or 4 (0 for the paper's 4)", c.ZBBlockScale)
	case c.Size%(1<<c.ZBDowns()) != 0:
		return fmt.Errorf("size %d: want a multiple of %d (zb_block_scale)", c.Size, 1<<c.ZBDowns())
	case c.Channels < 1:
		return fmt.Errorf("channels %d: want >= 1", c.Channels)
	case c.Base < 1 || c.Z < 1 || c.DiscBase < 1:
		return fmt.Errorf("base %d, z %d, disc_base %d: want >= 1", c.Base, c.Z, c.DiscBase)
	case c.ResBlocks < 0:
		return fmt.Errorf("res_blocks %d: want >= 0", c.ResBlocks)
	case c.Batch < 1:
		return fmt.Errorf("batch %d: want >= 1", c.Batch)
	case c.PoolSize < 0:
		return fmt.Errorf("pool_size %d: want >= 0", c.PoolSize)
	case c.LearningRate <= 0 || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("learning_rate %g, beta1 %g, beta2 %g: want lr > 0 and betas in [0, 1)", c.LearningRate, c.Beta1, c.Beta2)
	case c.DecayFrom < 0 || c.DecayFrom > 1:
		return fmt.Errorf("decay_from %g: want a fraction in [0, 1]", c.DecayFrom)
	case c.OmegaEpsilon <= 0:
		return fmt.Errorf("omega_epsilon %g: the paper requires ε > 0", c.OmegaEpsilon)
	case !(c.EMADecay >= 0 && c.EMADecay < 1):
		return fmt.Errorf("ema_decay %g: want 0 (off) or a decay in (0, 1)", c.EMADecay)
	case c.LabelNoise < 0 || c.Threshold <= 0 || c.Threshold >= 1:
		return fmt.Errorf("label_noise %g, threshold %g: want noise >= 0 and threshold in (0, 1)", c.LabelNoise, c.Threshold)
	}
	for _, l := range []float64{c.LambdaGAN, c.LambdaGANInpaint, c.LambdaCC, c.LambdaVAE, c.LambdaIdt, c.LambdaR, c.RelevancyScaleB, c.LambdaKL, c.LambdaLatent, c.LambdaDiversity, c.DiscLossScale} {
		if l < 0 {
			return fmt.Errorf("loss weights must be >= 0, got %g", l)
		}
	}
	return nil
}

// Set changes one field by its JSON name, parsing value for the field's type
// ("lambda_r", "0.25").
func (c *Config) Set(key, value string) error { return training.SetField(c, key, value) }

// ApplySettings applies "key=value;key=value" overrides (the --set flag).
func (c *Config) ApplySettings(s string) error { return training.ApplySettings(s, c.Set) }

// Keys returns the setting names Set accepts, in field order.
func Keys() []string {
	t := reflect.TypeOf(Config{})
	var out []string
	for i := range t.NumField() {
		out = append(out, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
	}
	return out
}

// decodeConfig parses a config saved as JSON. Fields that configs saved by
// earlier versions lack read as 0, which is the paper's choice for each,
// except RelevancyScaleB, which reads as 1 (the paper's, and those runs').
func decodeConfig(b []byte) (Config, error) {
	// Fields added after a config was saved take the value that reproduces
	// what that run trained with.
	c := Config{RelevancyScaleB: 1}
	err := json.Unmarshal(b, &c)
	return c, err
}

// ReadConfig reads a config saved as JSON.
func ReadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := decodeConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
