// Package pathogan implements PathoGAN (the paper in ../shared/paper): a
// CycleGAN between healthy (A) and pathological (B) brain MRI slices whose
// generators output a labelmap and an inpainting, with a variational
// autoencoder for the healthy-to-pathological direction, on GoMLX.
//
// Where each part of the paper lives:
//
//	section 2.4, networks      networks.go: Encoder (ΓA, ∆B), Decoder (EA),
//	                           ResidualGeneratorB (ZB), Discriminator (DA, DB);
//	                           layers.go: ck-f, df, uf, Rf, l(f) of the notation
//	eq. 6, generators          generator.go: Compose, Model.GeneratorA/B, Forward
//	eqs. 7-17, objective       losses.go: one function per term, Objective
//	training                   train.go: Trainer (one graph: G update with D
//	                           frozen, then D update on pooled fakes), pool.go
//	checkpoints                checkpoint.go (atomic, config inside)
//	runs                       run.go: Train on a prepared slice set, EvaluateDice
//	inference                  infer.go: Segment, Inpaint, ToPathological,
//	                           SamplePathologies, EncodeGamma/Delta, Decode
//	hyperparameters            config.go: Config, Presets ("paper", "small",
//	                           "mini", "tiny")
//
// Names in code and paper: the tensors of one forward pass are in Cycles
// (HatA = GA(xA, δB) with l̂A, p̂A, ŷB; TildeB = GB(ŷB) with x̃A; HatB = GB(xB)
// with l̂B, p̂B, ŷA; TildeA = GA(ŷA, ∆B(l̂B ⊙ xB)) with x̃B).
//
// Backends: package pathogan/backend picks XLA when a PJRT plugin loads and
// GoMLX's pure-Go backend otherwise, and supplies what the Go backend lacks
// for training convolutional networks. Graph-building mistakes panic with a
// "pathogan:" prefix; data and file problems are returned errors.
package pathogan
