// Package phantom generates a synthetic BraTS-like data set: brain MRI
// volumes with gliomas and their labels, written as NIfTI files in the BraTS
// 2017 layout so that the real preprocessing pipeline reads them unchanged.
//
// # Layout and format
//
// Write(dir, cfg, workers, progress) writes, for each patient,
//
//	dir/HGG/Phantom_HGG_0001/Phantom_HGG_0001_{flair,t1,t1ce,t2,seg}.nii.gz
//	dir/LGG/Phantom_LGG_0004/...
//
// with 240 x 240 x 155 volumes (x fastest, 1 mm), int16 images with
// non-negative values and a background of exactly 0 (skull-stripped), and a
// uint8 label map: 0 background, 1 necrotic / non-enhancing core, 2 oedema,
// 4 enhancing tumour. Generate returns one Patient in memory, WriteBraTS
// writes one, and RenderPNG draws an axial slice of the four contrasts and
// the labels.
//
// # Anatomy
//
// Config.Anatomy selects the healthy brain:
//
//   - "" or AnatomyEmbedded (default): an axial slab of the Colin27 T1
//     template (ch2bet, skull-stripped, from MRIcron; BSD-3-clause, see
//     anatomy/NOTICE) embedded in the package, so it works on any machine;
//   - a path to a skull-stripped 1 mm T1 NIfTI template whose third axis
//     runs inferior to superior (background 0), e.g. the whole
//     /usr/share/mricron/templates/ch2bet.nii.gz;
//   - AnatomyProcedural: a procedural brain (ellipsoidal brain with a folded
//     cortical ribbon, sulci, inter-hemispheric fissure, lateral and third
//     ventricles, caudate, putamen and thalamus), the fallback.
//
// The brain's in-plane bounding-box centre is put at the grid's centre. The
// axial mapping puts the anatomy slice at 52% of the brain's
// inferior-to-superior extent on BraTS slice 80; for Colin27 that is MNI
// z = +12 mm, so BraTS slices 60..100 run from MNI z = -8 mm (midbrain,
// third ventricle, basal ganglia) to +32 mm (bodies of the lateral
// ventricles), the levels BraTS slices 60..100 show.
//
// Slices outside the anatomy's cover are exactly 0 in every image: the
// embedded slab covers BraTS slices 45..115 only, so slices 0..44 and
// 116..154 hold no brain (and a tumour reaching past them is cut there). A
// whole-brain template or the procedural brain fills all slices the brain
// reaches.
//
// Tissue classes come from the T1 intensities: a 3-class k-means on the
// brain voxels gives CSF, grey- and white-matter means, and each voxel gets
// partial-volume memberships by linear mixing between neighbouring means.
// The four contrasts are synthesised from the memberships with these
// relative intensities: T1 WM > GM > CSF; T1CE like T1; T2 CSF > GM > WM;
// FLAIR GM slightly > WM, CSF suppressed.
//
// # Tumours
//
// Each patient has one glioma at a random place in the brain (in white
// matter when possible), shaped as a union of 3 to 7 random ellipsoids
// whose outline is perturbed by low-frequency noise, with core radii from
// about 5 to 22 mm. High-grade patients (HGG) have an enhancing rim
// (label 4: bright on T1CE only) around a necrotic core (label 1: dark on
// T1/T1CE, bright on T2) in most cases; low-grade patients (LGG, fraction
// Config.LGGFraction) have no enhancement and, usually, a non-enhancing
// core (label 1). Oedema (label 2: brightest on FLAIR, bright on T2,
// slightly dark on T1, no enhancement) surrounds the core, reaching further
// along white matter and sparing CSF. The tumour pushes the surrounding
// tissue outward (mass effect decaying with distance, weaker near the brain
// surface). Labels are confined to the brain. In every patient, BraTS
// slices 60..100 hold at least three tumour-free slices and at least three
// with more than 20 tumour voxels.
//
// Each patient also gets a random similarity transform and smooth elastic
// warp of the anatomy, a smooth multiplicative bias field per modality, a
// global intensity scale per modality and Rician noise.
//
// # Determinism
//
// Everything is seeded: patient k draws from its own math/rand/v2 PCG
// stream derived from (Config.Seed, k), so the same Config gives
// byte-identical files whatever the number of patients or workers.
//
// # Library behaviour
//
// The package prints nothing; errors name the file or value at fault. On
// one core, generating and writing one 240 x 240 x 155 patient takes about
// two seconds and a few hundred MB.
package phantom
