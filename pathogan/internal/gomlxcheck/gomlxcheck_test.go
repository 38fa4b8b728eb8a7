package gomlxcheck

import "testing"

func TestVersion(t *testing.T) {
	v, from, err := Version()
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if v != Want {
		t.Errorf("Version = %q (from %s), want %q (go.mod's)", v, from, Want)
	}
	if err := Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestVersionFromPath(t *testing.T) {
	for i, c := range []struct {
		path, want string
		ok         bool
	}{
		{"/root/go/pkg/mod/github.com/gomlx/gomlx@v0.26.0/backends/simplego/simplego.go", "v0.26.0", true},
		{"github.com/gomlx/gomlx@v0.27.1-0.20260101/backends/simplego/simplego.go", "v0.27.1-0.20260101", true},
		{`C:\Users\u\go\pkg\mod\github.com\gomlx\gomlx@v0.26.0\backends\x.go`, "v0.26.0", true},
		{"/home/u/src/gomlx/backends/simplego/simplego.go", "", false},
	} {
		got, ok := versionFromPath(c.path)
		if got != c.want || ok != c.ok {
			t.Errorf("case %d: versionFromPath(%q) = %q, %v; want %q, %v", i, c.path, got, ok, c.want, c.ok)
		}
	}
}

func TestCheckMismatch(t *testing.T) {
	defer func(f func() (string, string, error)) { VersionFunc = f }(VersionFunc)
	VersionFunc = func() (string, string, error) { return "v0.27.0", "test", nil }
	if err := Check(); err == nil {
		t.Fatal("Check accepted v0.27.0")
	}
}
