package pathogan

import (
	"testing"

	"github.com/pathogan-go/pathogan/pathogan/training"
)

// TestImagePoolFillsMidBatch drives the pool as Trainer.Step does, with the
// trainer's random draws, for seeds 1..50 and 20 steps each. With a pool of
// 50 and batches of 4 the pool fills up in the middle of step 13; before the
// fix, seeds 2, 3 and 26 then planned to show stored images 48 and 49, which
// were this step's own fakes and did not exist yet (index out of range in
// fill). Every planned stored index must name an image that exists.
func TestImagePoolFillsMidBatch(t *testing.T) {
	const pixels, batch = 3, 4
	for _, size := range []int{50, 6, 5, 1} {
		for seed := uint64(1); seed <= 50; seed++ {
			p := newImagePool(size, pixels)
			for step := range 20 {
				rng := training.StepRand(seed^seedPool, step)
				pl := p.plan(rng, batch)
				for i, u := range pl.useStored {
					if u && pl.storedIdx[i] >= len(p.images) {
						t.Fatalf("pool %d, seed %d, step %d, slot %d: shows stored image %d of %d", size, seed, step+1, i, pl.storedIdx[i], len(p.images))
					}
				}
				dst, use := make([]float32, batch*pixels), make([]float32, batch)
				p.fill(pl, dst, use)
				fakes := make([]float32, batch*pixels)
				for i := range fakes {
					fakes[i] = float32(step*100 + i)
				}
				p.update(pl, fakes)
				if len(p.images) > size {
					t.Fatalf("pool %d, seed %d, step %d: holds %d images", size, seed, step+1, len(p.images))
				}
			}
			if len(p.images) != size {
				t.Fatalf("pool %d, seed %d: %d images after 20 steps, want it full", size, seed, len(p.images))
			}
		}
	}
}
