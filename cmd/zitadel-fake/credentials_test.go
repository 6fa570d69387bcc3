package main

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-serviceuser/serviceuser"
	"github.com/go-serviceuser/serviceuser/filewatch"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestMakeCredentialsWritesWhatTheLibraryReads(t *testing.T) {
	srv := serviceusertest.NewServer(serviceusertest.InProcess())
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "new", "creds")
	c, err := makeCredentials(srv, dir)
	if err != nil {
		t.Fatal(err)
	}
	checkPrivate(t, dir, c.keyPath, c.apiKeyPath, c.secretPath, c.patPath)
	key, err := serviceuser.ReadKeyFile(c.keyPath)
	if err != nil || key.Type != "serviceaccount" {
		t.Errorf("%s: %v, type %q", fileServiceUser, err, key.Type)
	}
	app, err := serviceuser.ReadKeyFile(c.apiKeyPath)
	if err != nil || app.Type != "application" {
		t.Errorf("%s: %v, type %q", fileAPIApp, err, app.Type)
	}
	if _, err := serviceuser.ReadPAT(c.patPath); err != nil {
		t.Errorf("%s: %v", filePAT, err)
	}
	sw, err := filewatch.NewSecretSource(c.secretPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.CurrentSecret(); err != nil {
		t.Errorf("%s: %v", fileClientSecret, err)
	}
	if c.clientID == "" || c.projectID == "" {
		t.Errorf("client id %q, project id %q", c.clientID, c.projectID)
	}
}

func TestWritePrivateNarrowsAnExistingFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "pat.txt")
	if err := os.WriteFile(path, []byte("an older and longer content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writePrivate(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if err != nil || string(data) != "new\n" || fi.Mode().Perm() != 0o600 {
		t.Errorf("%q, %v, mode %v; want \"new\\n\" with mode 0600", data, err, fi.Mode().Perm())
	}
}

func TestCredentialsDir(t *testing.T) {
	named := t.TempDir()
	dir, cleanup, err := credentialsDir(named)
	if err != nil || dir != named {
		t.Fatalf("credentialsDir(%q) = %q, %v", named, dir, err)
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(named); err != nil {
		t.Errorf("a directory the user named was removed: %v", err)
	}

	dir, cleanup, err = credentialsDir("")
	if err != nil {
		t.Fatal(err)
	}
	checkPrivate(t, dir)
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory %s not removed: %v", dir, err)
	}
}
