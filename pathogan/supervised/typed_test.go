package supervised_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/pathogan/mdgru"
	"github.com/pathogan-go/pathogan/pathogan/unet"
)

// TestTypedHelpers: a run's config.json is read as its own model's and
// reported as another model's by the other; a checkpoint of one model is
// refused by the other's decoder with a message naming both; an unknown
// preset lists the known ones.
func TestTypedHelpers(t *testing.T) {
	u, _ := unet.Preset("tiny")
	b, _ := json.Marshal(u)
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, found, err := unet.ReadConfig(path); err != nil || !found || got.Base != u.Base || got.Preset != "tiny" {
		t.Errorf("unet.ReadConfig: %+v %v %v", got, found, err)
	}
	if _, found, err := mdgru.ReadConfig(path); err != nil || found {
		t.Errorf("mdgru.ReadConfig of a U-Net config: found %v, %v; want not found, no error", found, err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mdgru.ReadConfig(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("mdgru.ReadConfig of broken JSON: %v, want an error naming the file", err)
	}
	if _, err := mdgru.Decode(unet.ModelName, b); err == nil || !strings.Contains(err.Error(), `not an MDGRU checkpoint (model "unet")`) {
		t.Errorf("mdgru.Decode of a U-Net: %v", err)
	}
	if m, err := unet.Decode(unet.ModelName, b); err != nil || m.Settings().Model != unet.ModelName {
		t.Errorf("unet.Decode: %v %v", m, err)
	}
	if _, err := mdgru.Preset("huge"); err == nil || !strings.Contains(err.Error(), "MDGRU preset \"huge\" (known: mini, paper, small, tiny)") {
		t.Errorf("mdgru.Preset(huge): %v", err)
	}
}
