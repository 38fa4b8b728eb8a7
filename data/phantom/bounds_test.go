package phantom

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigBounds checks the bounds on the number of patients and the
// voxels of a shape: each is refused at once, before anything is generated
// or allocated (2e9 patients used to allocate 32 GB of error slots, a
// 1024^3 shape some 70 GB per patient).
func TestConfigBounds(t *testing.T) {
	cases := []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Patients = 2_000_000_000 }, "Config.Patients = 2000000000, want 0..9999"},
		{func(c *Config) { c.Shape = [3]int{1024, 1024, 1024} }, "1073741824 voxels, more than the 33554432"},
		{func(c *Config) { c.Shape = [3]int{512, 512, 256} }, "67108864 voxels"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.set(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate: err = %v, want %q", err, c.want)
		}
		start := time.Now()
		if err := Write(filepath.Join(t.TempDir(), "p"), cfg, 2, nil); err == nil || !strings.Contains(err.Error(), c.want) || time.Since(start) > time.Second {
			t.Errorf("Write: err = %v after %v, want %q at once", err, time.Since(start), c.want)
		}
	}
	cfg := DefaultConfig()
	cfg.Patients, cfg.Shape = MaxPatients, [3]int{256, 256, 512} // exactly MaxVoxels
	if err := cfg.Validate(); err != nil {
		t.Errorf("the bounds themselves: %v", err)
	}
}
