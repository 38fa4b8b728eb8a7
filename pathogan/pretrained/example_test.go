package pretrained_test

import (
	"fmt"

	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/pretrained"
)

// Example segments, inpaints and samples with the shipped model: GB turns a
// slice into its labelmap, inpainting and healthy translation (eq. 6), and
// GA adds pathologies drawn from the latent space to a healthy slice. Images
// are [n][size][size][channels] float32, normalised as `pathogan prepare`
// writes them; here one blank slice stands in for a real one.
func Example() {
	b, _, err := backend.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := pretrained.PathoGAN(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := m.Cfg
	x := make([]float32, c.Size*c.Size*c.Channels) // one slice

	healthy, err := m.ToHealthy(x) // GB(x): l̂B, p̂B, ŷA
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("labelmap %d values, inpainting %d, output %d\n",
		len(healthy.Labelmap), len(healthy.Inpainting), len(healthy.Output))

	sampled, err := m.SamplePathologies(x, 3, 7) // GA(x, δB) for 3 draws of δB, seed 7
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d sampled pathologies of %d×%d px\n", len(sampled.Labelmap)/(c.Size*c.Size), c.Size, c.Size)
	// Output:
	// labelmap 4096 values, inpainting 16384, output 16384
	// 3 sampled pathologies of 64×64 px
}
