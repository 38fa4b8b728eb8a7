package pathogan

import (
	"math/rand/v2"
	"slices"
)

// imagePool is CycleGAN's history of generated images: the discriminator is
// shown, for each fake of the current batch, either that fake or (with
// probability 1/2 once the pool is full) a fake from an earlier step, which
// then takes the stored one's place. It reduces oscillation between G and D.
//
// The decision for each batch slot is made before the step (it does not
// depend on the image), so that the step graph takes the pool's choice as
// an input: Plan says which slots use a stored image and which one; after the
// step, Update stores the step's fakes as planned.
type imagePool struct {
	size   int
	pixels int // values per image
	images [][]float32
}

// poolPlan is one step's decision for a batch.
type poolPlan struct {
	useStored []bool // slot uses a stored image (else the current fake)
	storedIdx []int  // which stored image (when useStored)
	insertAt  []int  // where the current fake goes: -1 nowhere, len(images) append
}

// poolState is the pools' content, saved in checkpoints.
type poolState struct {
	A, B [][]float32
}

func newImagePool(size, pixels int) *imagePool {
	return &imagePool{size: size, pixels: pixels}
}

// plan decides, for a batch of n, which slots get a stored image.
func (p *imagePool) plan(rng *rand.Rand, n int) poolPlan {
	pl := poolPlan{useStored: make([]bool, n), storedIdx: make([]int, n), insertAt: make([]int, n)}
	stored := len(p.images) // images that exist before this step: only these can be shown
	count := stored
	for i := range n {
		pl.insertAt[i] = -1
		switch {
		case p.size == 0:
		case count < p.size:
			pl.insertAt[i] = count // the pool fills up first; the current fake is shown
			count++
		case stored < p.size:
			// The pool filled up earlier in this batch: the slots it would
			// draw from hold fakes of this very step, which exist only after
			// it. Show the current fake and store nothing, as a full pool
			// does half of the time.
		case rng.Float64() < 0.5:
			j := rng.IntN(p.size)
			pl.useStored[i], pl.storedIdx[i], pl.insertAt[i] = true, j, j
		}
	}
	return pl
}

// fill writes the stored images the plan uses into dst ([n][pixels]), zeros
// in the other images, and the mask into use (1 where stored).
func (p *imagePool) fill(pl poolPlan, dst []float32, use []float32) {
	for i, u := range pl.useStored {
		use[i] = 0
		d := dst[i*p.pixels : (i+1)*p.pixels]
		if u {
			use[i] = 1
			copy(d, p.images[pl.storedIdx[i]])
		} else {
			clear(d)
		}
	}
}

// update stores the step's fakes ([n][pixels]) as the plan says. A stored
// image that the plan showed this step is replaced only after it was used.
func (p *imagePool) update(pl poolPlan, fakes []float32) {
	for i, at := range pl.insertAt {
		if at < 0 {
			continue
		}
		fake := fakes[i*p.pixels : (i+1)*p.pixels]
		if at == len(p.images) {
			p.images = append(p.images, slices.Clone(fake))
		} else {
			copy(p.images[at], fake)
		}
	}
}
