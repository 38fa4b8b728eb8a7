//go:build ignore

// gen_slices writes slices.gob.gz, the example slices that ship with the
// model (see Slices): from the 8 phantom patients the notebooks make (seed
// 1, prepared at 64 px), the pathological test slices with the largest and
// the median tumour, and the healthy test slices at the middle of the split
// and at index 3, the ones notebooks 01 and 02 first show.
//
//	go run gen_slices.go [-work DIR]
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/quickstart"
	"github.com/pathogan-go/pathogan/pathogan/pretrained"
)

func main() {
	work := flag.String("work", "", "folder for the phantom and the slice set (default: a temporary one)")
	flag.Parse()
	dir := *work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "gen-slices"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	set, err := quickstart.PhantomSet(dir, 8, 1, 64, nil)
	if err != nil {
		log.Fatal(err)
	}
	patho := set.Select(data.Test, data.Pathological)
	slices.SortFunc(patho, func(i, j int) int { return set.Info[j].TumourPixels - set.Info[i].TumourPixels })
	healthy := set.Select(data.Test, data.Healthy)
	picks := []struct {
		idx  int
		role string
	}{
		{patho[0], pretrained.RoleLargest},
		{patho[len(patho)/2], pretrained.RoleMedian},
		{healthy[len(healthy)/2], pretrained.RoleHealthy},
		{healthy[3%len(healthy)], pretrained.RoleHealthy2},
	}
	var out []pretrained.Slice
	for _, p := range picks {
		x, err := set.Image(p.idx, nil)
		if err != nil {
			log.Fatal(err)
		}
		l, err := set.Label(p.idx, nil)
		if err != nil {
			log.Fatal(err)
		}
		in := set.Info[p.idx]
		out = append(out, pretrained.Slice{Role: p.role, Name: fmt.Sprintf("%s, slice %d", in.Patient, in.Slice),
			Size: set.Height, Channels: set.Channels, Image: x, Label: l})
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		log.Fatal(err)
	}
	if err := gob.NewEncoder(zw).Encode(out); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("slices.gob.gz", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote slices.gob.gz: %d slices, %d bytes\n", len(out), buf.Len())
}
