// Package training holds what every model's training shares: the run folder
// (lock, checkpoints, config.json, losses.csv, resuming), the step loop
// behind the Stepper interface with its NaN guard, interruption and
// checkpoint cadence, the learning-rate schedule, per-step random sources,
// and the key=value settings that the --set flag applies to a config.
//
// The models (the root package pathogan, unet, mdgru through supervised)
// import it; it imports none of them.
package training
