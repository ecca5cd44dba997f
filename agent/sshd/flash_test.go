package sshd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestCleanFlashName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{"x.lic", "x.lic", nil},
		{"flash:x.lic", "x.lic", nil},
		{"FLASH:x.lic", "x.lic", nil},
		{"flash:/x.lic", "x.lic", nil},
		{"/x.lic", "x.lic", nil},
		{"cred.cred", "cred.cred", nil},
		{"rehost.ticket", "rehost.ticket", nil},
		{"UPPER.LIC", "UPPER.LIC", nil},
		{"with space.lic", "with space.lic", nil},
		{"", "", ErrFlashName},
		{"flash:", "", ErrFlashName},
		{"flash:/", "", ErrFlashName},
		{"../x.lic", "", ErrFlashName},
		{"flash:../x.lic", "", ErrFlashName},
		{"a/b.lic", "", ErrFlashName},
		{"flash://x.lic", "", ErrFlashName},
		{`a\b.lic`, "", ErrFlashName},
		{"..", "", ErrFlashName},
		{".", "", ErrFlashName},
		{".hidden.lic", "", ErrFlashName},
		{".upload-123", "", ErrFlashName},
		{"bootflash:x.lic", "", ErrFlashName},
		{"tftp://h/x.lic", "", ErrFlashName},
		{"x\x00.lic", "", ErrFlashName},
		{"x\n.lic", "", ErrFlashName},
		{"x\x7f.lic", "", ErrFlashName},
		{"\xff.lic", "", ErrFlashName},
		{strings.Repeat("a", 125) + ".lic", "", ErrFlashName},
		{strings.Repeat("a", 124) + ".lic", strings.Repeat("a", 124) + ".lic", nil},
		{"x.txt", "", ErrFlashType},
		{"x", "", ErrFlashType},
		{".lic", "", ErrFlashName},
		{"x.lic.txt", "", ErrFlashType},
		{"x.licx", "", ErrFlashType},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := CleanFlashName(tt.in)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("CleanFlashName(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
				t.Errorf("error %q does not name the input", err)
			}
		})
	}
}

func newTestFlash(t *testing.T, maxFile, maxTotal int64) *Flash {
	t.Helper()
	f, err := NewFlash(filepath.Join(t.TempDir(), "flash"), maxFile, maxTotal)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFlashReadWrite(t *testing.T) {
	f := newTestFlash(t, 100, 250)
	if err := f.WriteFile("flash:a.lic", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFile("a.lic", []byte("second")); err != nil {
		t.Fatal(err)
	}
	got, err := f.ReadFile("flash:/a.lic")
	if err != nil || string(got) != "second" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	st, err := os.Stat(filepath.Join(f.Dir(), "a.lic"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("stored file: %v %v", st, err)
	}
	if _, err := f.ReadFile("b.lic"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := f.WriteFile("big.lic", make([]byte, 101)); !errors.Is(err, ErrFlashTooLarge) {
		t.Errorf("101 bytes with a 100-byte limit: %v", err)
	}
	if err := f.WriteFile("b.lic", make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	// 6 + 100 used; 150 more would pass 250.
	if err := f.WriteFile("c.lic", make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFile("d.lic", make([]byte, 50)); !errors.Is(err, ErrFlashFull) {
		t.Errorf("past the total: %v", err)
	}
	// Replacing a file counts only the new size.
	if err := f.WriteFile("c.lic", make([]byte, 100)); err != nil {
		t.Errorf("replacing a file of the same size: %v", err)
	}
	files, err := f.List()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(names(files)) != "[a.lic b.lic c.lic]" {
		t.Errorf("List = %v", names(files))
	}
	if n, _ := f.Usage(); n != 206 {
		t.Errorf("Usage = %d", n)
	}
	if err := f.Rename("c.lic", "e.cred"); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename("e.cred", "e.txt"); !errors.Is(err, ErrFlashType) {
		t.Errorf("rename to .txt: %v", err)
	}
	if err := f.Remove("e.cred"); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("e.cred"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second remove: %v", err)
	}
	if left := dirNames(t, f.Dir()); fmt.Sprint(left) != "[a.lic b.lic]" {
		t.Errorf("directory holds %v", left)
	}
}

func names(files []FlashInfo) []string {
	var n []string
	for _, f := range files {
		n = append(n, f.Name)
	}
	return n
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range ents {
		n = append(n, e.Name())
	}
	return n
}

func TestFlashRefusesLinksAndSpecialFiles(t *testing.T) {
	f := newTestFlash(t, 0, 0)
	outside := filepath.Join(t.TempDir(), "secret.lic")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(f.Dir(), "link.lic")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(f.Dir(), "fifo.lic"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(f.Dir(), "dir.lic"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"link.lic", "fifo.lic", "dir.lic"} {
		if _, err := f.ReadFile(name); !errors.Is(err, ErrFlashNotFile) {
			t.Errorf("ReadFile(%s): %v", name, err)
		}
		if _, err := f.Stat(name); !errors.Is(err, ErrFlashNotFile) {
			t.Errorf("Stat(%s): %v", name, err)
		}
		if err := f.Remove(name); !errors.Is(err, ErrFlashNotFile) {
			t.Errorf("Remove(%s): %v", name, err)
		}
		if err := f.WriteFile(name, []byte("x")); !errors.Is(err, ErrFlashNotFile) {
			t.Errorf("WriteFile(%s): %v", name, err)
		}
	}
	if err := f.WriteFile("ok.lic", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename("ok.lic", "link.lic"); !errors.Is(err, ErrFlashNotFile) {
		t.Errorf("rename over a link: %v", err)
	}
	files, _ := f.List()
	if fmt.Sprint(names(files)) != "[ok.lic]" {
		t.Errorf("List shows %v", names(files))
	}
	if data, _ := os.ReadFile(outside); string(data) != "secret" {
		t.Errorf("the link target changed: %q", data)
	}
}

func TestFlashUpload(t *testing.T) {
	f := newTestFlash(t, 10, 15)
	u, err := f.Create("a.lic")
	if err != nil {
		t.Fatal(err)
	}
	// Out of order, as SFTP clients write.
	if _, err := u.WriteAt([]byte("world"), 5); err != nil {
		t.Fatal(err)
	}
	if _, err := u.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat("a.lic"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file visible before Close: %v", err)
	}
	// A second upload may only use what is left of the total.
	u2, err := f.Create("b.lic")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u2.WriteAt([]byte("123456"), 0); !errors.Is(err, ErrFlashFull) {
		t.Errorf("second upload past the total: %v", err)
	}
	if _, err := u2.WriteAt([]byte("1"), 0); !errors.Is(err, ErrFlashFull) {
		t.Errorf("a failed upload accepts more data: %v", err)
	}
	if err := u2.Close(); !errors.Is(err, ErrFlashFull) {
		t.Errorf("Close of a failed upload: %v", err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if data, err := f.ReadFile("a.lic"); err != nil || string(data) != "helloworld" {
		t.Errorf("stored %q, %v", data, err)
	}
	// The limit applies at the write that crosses it.
	u3, err := f.Create("c.lic")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u3.WriteAt([]byte("12345"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := u3.WriteAt([]byte("67890!"), 5); !errors.Is(err, ErrFlashTooLarge) {
		t.Errorf("write past 10 bytes: %v", err)
	}
	u3.Abort()
	if _, err := f.Stat("c.lic"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("aborted upload stored: %v", err)
	}
	u4, err := f.Create("d.lic")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u4.WriteAt([]byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	u4.Abort()
	if err := u4.Close(); err == nil {
		t.Error("Close after Abort succeeded")
	}
	if left := dirNames(t, f.Dir()); fmt.Sprint(left) != "[a.lic]" {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestFlashConcurrentUploadsRespectTotal(t *testing.T) {
	f := newTestFlash(t, 100, 300)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			errs[i] = f.WriteFile(fmt.Sprintf("f%d.lic", i), bytes.Repeat([]byte{'x'}, 100))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrFlashFull):
			t.Errorf("unexpected error %v", err)
		}
	}
	if n, _ := f.Usage(); ok != 3 || n != 300 {
		t.Errorf("%d uploads stored, %d bytes; want 3 and 300", ok, n)
	}
}

func TestNewFlash(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, uploadPrefix+"stale"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFlash(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if left := dirNames(t, dir); len(left) != 0 {
		t.Errorf("stale upload kept: %v", left)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir           string
		maxFile, maxT int64
		want          string
	}{
		{"", 0, 0, "no directory"},
		{file, 0, 0, "not a directory"},
		{dir, 10, 5, "invalid limits"},
		{dir, -1, 5, "invalid limits"},
	} {
		if _, err := NewFlash(tc.dir, tc.maxFile, tc.maxT); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewFlash(%q, %d, %d): %v, want %q", tc.dir, tc.maxFile, tc.maxT, err, tc.want)
		}
	}
}

func FuzzCleanFlashName(f *testing.F) {
	for _, s := range []string{"x.lic", "flash:/x.lic", "../x.lic", "a/b.cred", ".x.ticket", "x\x00.lic", "flash:..", "é.LIC"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, name string) {
		got, err := CleanFlashName(name)
		if err != nil {
			if !errors.Is(err, ErrFlashName) && !errors.Is(err, ErrFlashType) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if got != filepath.Base(got) || strings.ContainsAny(got, "/\\:\x00") || got[0] == '.' {
			t.Fatalf("%q gave unsafe name %q", name, got)
		}
		if p := filepath.Join(dir, got); filepath.Dir(p) != dir {
			t.Fatalf("%q escapes the folder: %q", name, p)
		}
		again, err := CleanFlashName(got)
		if err != nil || again != got {
			t.Fatalf("not stable: %q -> %q -> %q, %v", name, got, again, err)
		}
	})
}
