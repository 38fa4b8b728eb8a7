// Package gomlxcheck tells which GoMLX version a binary was built with, so that the code that
// patches GoMLX (package kernels' executors, package gradients' registrations) installs nothing
// on a version it was not written for.
//
// The version comes from the binary's build information (runtime/debug.ReadBuildInfo): the
// github.com/gomlx/gomlx dependency's version, or its replacement's. Test binaries built by
// "go test" record no dependencies; for them (and any binary whose build information does not
// list GoMLX) the version is read from the source path of a GoMLX function, which lies in the
// module cache as ".../github.com/gomlx/gomlx@v0.26.0/..." (also with -trimpath). When neither
// tells (GoMLX replaced by a local folder, or no build information at all), the version is
// unknown and Check returns an error: the callers then fall back to GoMLX's own code.
package gomlxcheck

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gomlx/gomlx/backends/simplego"
)

// Module is GoMLX's module path.
const Module = "github.com/gomlx/gomlx"

// Want is the only GoMLX version the patches were written and checked for.
const Want = "v0.26.0"

// VersionFunc returns the GoMLX version the binary was built with and where it was read from
// ("build info", "source path"), or an error when it cannot tell. Tests replace it to simulate
// another version; it must be set before anything is installed.
var VersionFunc = Version

// Check returns nil when the binary was built with GoMLX Want, else an error that says which
// version it found (or why it found none).
func Check() error {
	v, from, err := VersionFunc()
	if err != nil {
		return err
	}
	if v != Want {
		return fmt.Errorf("GoMLX is %s (from %s), these patches are for %s", v, from, Want)
	}
	return nil
}

// Version returns the GoMLX version the binary was built with: from the build information when
// it lists GoMLX, else from the source path of a GoMLX function.
func Version() (version, from string, err error) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == Module {
			return bi.Main.Version, "build info (main module)", nil
		}
		for _, d := range bi.Deps {
			if d.Path != Module {
				continue
			}
			if d.Replace != nil {
				if d.Replace.Version == "" {
					return "", "", fmt.Errorf("GoMLX version unknown: replaced by %s", d.Replace.Path)
				}
				return d.Replace.Version, "build info (replacement " + d.Replace.Path + ")", nil
			}
			return d.Version, "build info", nil
		}
	}
	file, _ := runtime.FuncForPC(reflect.ValueOf(simplego.New).Pointer()).FileLine(0)
	if v, ok := versionFromPath(file); ok {
		return v, "source path", nil
	}
	return "", "", fmt.Errorf("GoMLX version unknown: no build information lists %s and its source %q has no version", Module, file)
}

// versionFromPath extracts the version from a module cache path such as
// "/root/go/pkg/mod/github.com/gomlx/gomlx@v0.26.0/backends/simplego/simplego.go".
func versionFromPath(file string) (string, bool) {
	file = strings.ReplaceAll(file, "\\", "/")
	_, rest, found := strings.Cut(file, Module+"@")
	if !found {
		return "", false
	}
	v, _, _ := strings.Cut(rest, "/")
	return v, v != ""
}
