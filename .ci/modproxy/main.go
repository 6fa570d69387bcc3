// Command modproxy writes a file-based module proxy (GOPROXY=file://DIR)
// that serves every module of a repository at one version, as the go
// command would download them once the repository is tagged: the .mod file
// is the module's go.mod, the zip is made by golang.org/x/mod/zip like the
// go command's, the repository's LICENSE included in a module in a
// subdirectory that has none.
//
// Usage:
//
//	modproxy [-time RFC3339] ROOT VERSION OUTDIR
//
// ROOT is the repository's root directory, best an export of a commit (git
// archive), as the go command sees only committed files. Modules are the
// directories holding a go.mod, except those that ./... patterns skip
// (names starting with "." or "_", testdata, vendor); the module in
// directory DIR must be the root module's path followed by /DIR, as its
// DIR/VERSION tag requires.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	stamp := flag.String("time", "", "the version's time in the .info files (RFC 3339; default now)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: modproxy [-time RFC3339] ROOT VERSION OUTDIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 3 {
		flag.Usage()
		os.Exit(2)
	}
	t := time.Now()
	if *stamp != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, *stamp); err != nil {
			fmt.Fprintln(os.Stderr, "modproxy: -time:", err)
			os.Exit(2)
		}
	}
	mods, err := build(flag.Arg(0), flag.Arg(1), flag.Arg(2), t)
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	for _, m := range mods {
		fmt.Printf("%s@%s (%s)\n", m.Path, flag.Arg(1), m.Dir)
	}
}

// repoModule is one module of the repository.
type repoModule struct {
	Path string // module path
	Dir  string // slash-separated directory relative to the root, "." for the root
}

// build writes every module of the repository at root, at version, into the
// proxy tree out, and returns the modules.
func build(root, version, out string, t time.Time) ([]repoModule, error) {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return nil, fmt.Errorf("version %q is not a canonical semantic version such as v1.2.3", version)
	}
	mods, err := findModules(root)
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		if err := writeModule(root, m, version, out, t); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", m.Path, m.Dir, err)
		}
	}
	return mods, nil
}

// findModules lists the modules under root, the root module first, and
// checks that each path is the one its directory's tags serve.
func findModules(root string) ([]repoModule, error) {
	var mods []repoModule
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		modPath := modfile.ModulePath(data)
		if modPath == "" {
			return fmt.Errorf("%s: no module path", p)
		}
		mods = append(mods, repoModule{Path: modPath, Dir: filepath.ToSlash(filepath.Dir(rel))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The walk visits conformance/go.mod before go.mod: the root goes first.
	i := slices.IndexFunc(mods, func(m repoModule) bool { return m.Dir == "." })
	if i < 0 {
		return nil, fmt.Errorf("%s has no go.mod", root)
	}
	mods = append(append([]repoModule{mods[i]}, mods[:i]...), mods[i+1:]...)
	base, _, _ := module.SplitPathVersion(mods[0].Path)
	for _, m := range mods[1:] {
		if prefix, _, _ := module.SplitPathVersion(m.Path); prefix != base+"/"+m.Dir {
			return nil, fmt.Errorf("module %s in directory %s: its tags %s/vX.Y.Z serve module %s/%s", m.Path, m.Dir, m.Dir, base, m.Dir)
		}
	}
	return mods, nil
}

// writeModule writes m's list, .info, .mod and .zip files at version.
func writeModule(root string, m repoModule, version, out string, t time.Time) error {
	if err := module.Check(m.Path, version); err != nil {
		return err
	}
	escPath, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	escVersion, err := module.EscapeVersion(version)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(escPath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	modDir := filepath.Join(root, filepath.FromSlash(m.Dir))
	var zipData bytes.Buffer
	if err := createZip(&zipData, root, modDir, module.Version{Path: m.Path, Version: version}); err != nil {
		return err
	}
	goMod, err := os.ReadFile(filepath.Join(modDir, "go.mod"))
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, t.UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	base := filepath.Join(dir, escVersion)
	for _, f := range []struct {
		name string
		data []byte
	}{{base + ".zip", zipData.Bytes()}, {base + ".mod", goMod}, {base + ".info", info}} {
		if err := os.WriteFile(f.name, f.data, 0o644); err != nil {
			return err
		}
	}
	return addToList(filepath.Join(dir, "list"), version)
}

// createZip writes the zip of the module in modDir: the files
// modzip.CreateFromDir takes, which fails on a file a module cannot hold,
// plus, as the go command does for a module in a subdirectory of its
// repository, the repository's LICENSE when the module has none.
func createZip(w io.Writer, root, modDir string, m module.Version) error {
	var buf bytes.Buffer
	if err := modzip.CreateFromDir(&buf, m, modDir); err != nil {
		return err
	}
	if filepath.Clean(root) == filepath.Clean(modDir) {
		_, err := w.Write(buf.Bytes())
		return err
	}
	license, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if errors.Is(err, fs.ErrNotExist) {
		_, err := w.Write(buf.Bytes())
		return err
	}
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return err
	}
	prefix := m.Path + "@" + m.Version + "/"
	var files []modzip.File
	for _, f := range zr.File {
		name := strings.TrimPrefix(f.Name, prefix)
		if name == "LICENSE" {
			_, err := w.Write(buf.Bytes())
			return err
		}
		files = append(files, zipEntry{name, f})
	}
	files = append(files, licenseFile(license))
	return modzip.Create(w, m, files)
}

// addToList adds version to the proxy's list file of the module.
func addToList(list, version string) error {
	data, err := os.ReadFile(list)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(data))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	semver.Sort(versions)
	return os.WriteFile(list, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// zipEntry is a file of a module zip already made, as a modzip.File.
type zipEntry struct {
	name string
	f    *zip.File
}

func (e zipEntry) Path() string                 { return e.name }
func (e zipEntry) Lstat() (fs.FileInfo, error)  { return e.f.FileInfo(), nil }
func (e zipEntry) Open() (io.ReadCloser, error) { return e.f.Open() }

// licenseFile is the repository's LICENSE, as a modzip.File.
type licenseFile []byte

func (l licenseFile) Path() string                 { return "LICENSE" }
func (l licenseFile) Lstat() (fs.FileInfo, error)  { return licenseInfo(len(l)), nil }
func (l licenseFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(l)), nil }

type licenseInfo int64

func (i licenseInfo) Name() string       { return "LICENSE" }
func (i licenseInfo) Size() int64        { return int64(i) }
func (i licenseInfo) Mode() fs.FileMode  { return 0o644 }
func (i licenseInfo) ModTime() time.Time { return time.Time{} }
func (i licenseInfo) IsDir() bool        { return false }
func (i licenseInfo) Sys() any           { return nil }
