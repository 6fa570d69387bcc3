package main

import (
	"archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeTree writes files (slash-separated path: content) under a new
// directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// repoFiles is a repository with a root module, a module in sub/, and
// go.mod files that ./... patterns skip.
var repoFiles = map[string]string{
	"go.mod":               "module example.com/r\n\ngo 1.26.0\n",
	"LICENSE":              "the license\n",
	"r.go":                 "package r\n",
	"internal/x/x.go":      "package x\n",
	"a/go.mod":             "module example.com/r/a\n",
	"sub/go.mod":           "module example.com/r/sub\n\ngo 1.26.0\n\nrequire example.com/r v0.3.0\n",
	"sub/sub.go":           "package sub\n",
	"sub/deeper/deeper.go": "package deeper\n",
	".ci/run":              "#!/bin/sh\n",
	".ci/tool/go.mod":      "module tool\n",
	".ci/tool/tool.go":     "package main\n",
	"_old/go.mod":          "module old\n",
	"testdata/m/go.mod":    "module m\n",
}

// zipNames lists the files of a module zip.
func zipNames(t *testing.T, path string) []string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

func TestBuild(t *testing.T) {
	root := writeTree(t, repoFiles)
	out := t.TempDir()
	stamp := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	mods, err := build(root, "v0.3.0", out, stamp)
	if err != nil {
		t.Fatal(err)
	}
	want := []repoModule{{"example.com/r", "."}, {"example.com/r/a", "a"}, {"example.com/r/sub", "sub"}}
	if !slices.Equal(mods, want) {
		t.Fatalf("modules %v, want %v", mods, want)
	}
	v := filepath.Join(out, "example.com", "r", "@v")
	if got := zipNames(t, filepath.Join(v, "v0.3.0.zip")); !slices.Equal(got, []string{
		"example.com/r@v0.3.0/.ci/run", "example.com/r@v0.3.0/LICENSE", "example.com/r@v0.3.0/go.mod",
		"example.com/r@v0.3.0/internal/x/x.go", "example.com/r@v0.3.0/r.go",
	}) {
		t.Errorf("root zip holds %q (want no file of a directory with a go.mod)", got)
	}
	sv := filepath.Join(out, "example.com", "r", "sub", "@v")
	if got := zipNames(t, filepath.Join(sv, "v0.3.0.zip")); !slices.Equal(got, []string{
		"example.com/r/sub@v0.3.0/LICENSE", "example.com/r/sub@v0.3.0/deeper/deeper.go",
		"example.com/r/sub@v0.3.0/go.mod", "example.com/r/sub@v0.3.0/sub.go",
	}) {
		t.Errorf("sub zip holds %q (want the root's LICENSE added)", got)
	}
	if mod, _ := os.ReadFile(filepath.Join(sv, "v0.3.0.mod")); string(mod) != repoFiles["sub/go.mod"] {
		t.Errorf("sub .mod = %q, want its go.mod", mod)
	}
	var info struct {
		Version string
		Time    time.Time
	}
	data, _ := os.ReadFile(filepath.Join(sv, "v0.3.0.info"))
	if err := json.Unmarshal(data, &info); err != nil || info.Version != "v0.3.0" || !info.Time.Equal(stamp) {
		t.Errorf("sub .info = %s (%v)", data, err)
	}

	// A second version joins the list.
	if _, err := build(root, "v0.2.1", out, stamp); err != nil {
		t.Fatal(err)
	}
	if list, _ := os.ReadFile(filepath.Join(v, "list")); string(list) != "v0.2.1\nv0.3.0\n" {
		t.Errorf("list = %q", list)
	}
}

// A module that has its own LICENSE keeps it.
func TestBuildOwnLicense(t *testing.T) {
	files := maps(repoFiles, map[string]string{"sub/LICENSE": "the sub license\n"})
	out := t.TempDir()
	if _, err := build(writeTree(t, files), "v0.3.0", out, time.Now()); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(filepath.Join(out, "example.com", "r", "sub", "@v", "v0.3.0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var licenses []string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "LICENSE") {
			rc, _ := f.Open()
			data := make([]byte, 64)
			n, _ := rc.Read(data)
			rc.Close()
			licenses = append(licenses, string(data[:n]))
		}
	}
	if !slices.Equal(licenses, []string{"the sub license\n"}) {
		t.Errorf("licenses in the zip: %q", licenses)
	}
}

func maps(base, extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// What a module zip cannot hold, or a module the tags cannot serve, is an
// error, not a zip without it.
func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name    string
		extra   map[string]string
		version string
		want    string
	}{
		{"names equal but for case", map[string]string{"sub/Sub.go": "package sub\n"}, "v0.3.0", "case-insensitive file name collision"},
		{"invalid file name", map[string]string{"bad\"name.txt": ""}, "v0.3.0", "bad\"name.txt"},
		{"path unlike the directory", map[string]string{"other/go.mod": "module example.com/elsewhere\n"}, "v0.3.0", "other/vX.Y.Z serve module example.com/r/other"},
		{"major version without suffix", nil, "v2.0.0", "should be v0 or v1, not v2"},
		{"not canonical", nil, "v0.3", "not a canonical semantic version"},
	}
	for _, tt := range tests {
		root := writeTree(t, maps(repoFiles, tt.extra))
		_, err := build(root, tt.version, t.TempDir(), time.Now())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// The go command downloads the modules from the tree and verifies them
// against its own checksums of the zips' contents.
func TestGoCommandDownloads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root := writeTree(t, repoFiles)
	out := t.TempDir()
	if _, err := build(root, "v0.3.0", out, time.Now()); err != nil {
		t.Fatal(err)
	}
	work := writeTree(t, map[string]string{"go.mod": "module example.com/user\n\ngo 1.26.0\n"})
	cmd := exec.Command("go", "mod", "download", "-json", "example.com/r/sub@v0.3.0", "example.com/r@v0.3.0")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(out), "GOSUMDB=off", "GOFLAGS=-modcacherw",
		"GOMODCACHE="+t.TempDir(), "GOWORK=off", "GOTOOLCHAIN=local")
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download: %v\n%s", err, data)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	for dec.More() {
		var m struct{ Path, Dir, Sum, Error string }
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.Error != "" || !strings.HasPrefix(m.Sum, "h1:") {
			t.Errorf("%s: error %q, sum %q", m.Path, m.Error, m.Sum)
		}
		if _, err := os.Stat(filepath.Join(m.Dir, "LICENSE")); err != nil {
			t.Errorf("%s has no LICENSE: %v", m.Path, err)
		}
	}
}
