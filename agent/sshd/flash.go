package sshd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// Flash errors. Every error from Flash wraps one of these or fs.ErrNotExist.
var (
	ErrFlashName     = errors.New("invalid file name")
	ErrFlashType     = errors.New("file type not allowed")
	ErrFlashTooLarge = errors.New("file too large")
	ErrFlashFull     = errors.New("flash: is full")
	ErrFlashNotFile  = errors.New("not a regular file")
)

// flashType reports whether ext (lower case) is a type the flash: folder
// holds: license files, device credentials and tickets.
func flashType(ext string) bool {
	switch ext {
	case ".lic", ".cred", ".ticket":
		return true
	}
	return false
}

// maxFlashName bounds a file name in flash:.
const maxFlashName = 128

// uploadPrefix names files that are being written; names starting with a
// dot are never valid flash: names, so they cannot be read or listed.
const uploadPrefix = ".upload-"

// Flash is the virtual flash: folder: a flat directory of license files,
// credentials and tickets with a size limit per file and in total. Names are
// plain file names ("x.lic"), optionally written "flash:x.lic" or
// "flash:/x.lic"; nothing outside the folder can be named, and symbolic links
// inside it are refused. Writes go to a temporary file that replaces the
// target only when complete. Safe for concurrent use.
type Flash struct {
	dir      string
	maxFile  int64
	maxTotal int64

	mu      sync.Mutex
	pending map[*Upload]int64 // bytes reserved by unfinished uploads
}

// FlashInfo describes one file in flash:.
type FlashInfo struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// NewFlash opens (creating, mode 0700, if missing) the folder dir. maxFile
// and maxTotal of zero take DefaultFlashMaxFile and DefaultFlashMaxTotal.
// Leftovers of interrupted uploads are removed.
func NewFlash(dir string, maxFile, maxTotal int64) (*Flash, error) {
	if dir == "" {
		return nil, errors.New("flash: no directory configured")
	}
	if maxFile == 0 {
		maxFile = DefaultFlashMaxFile
	}
	if maxTotal == 0 {
		maxTotal = DefaultFlashMaxTotal
	}
	if maxFile < 0 || maxTotal < 0 || maxFile > maxTotal {
		return nil, fmt.Errorf("flash: invalid limits: %d bytes per file, %d in total", maxFile, maxTotal)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("flash: %s is not a directory", dir)
	}
	f := &Flash{dir: dir, maxFile: maxFile, maxTotal: maxTotal, pending: map[*Upload]int64{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), uploadPrefix) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return f, nil
}

// Dir is the real directory behind flash:.
func (f *Flash) Dir() string { return f.dir }

// MaxFile is the largest file flash: accepts.
func (f *Flash) MaxFile() int64 { return f.maxFile }

// MaxTotal is the most flash: holds.
func (f *Flash) MaxTotal() int64 { return f.maxTotal }

// CleanFlashName returns the plain file name for "flash:x.lic",
// "flash:/x.lic", "/x.lic" or "x.lic", or an error that says what is wrong
// with it.
func CleanFlashName(name string) (string, error) {
	orig := name
	if len(name) >= 6 && strings.EqualFold(name[:6], "flash:") {
		name = name[6:]
	}
	name = strings.TrimPrefix(name, "/")
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%q: %w: %s", orig, ErrFlashName, why)
	}
	switch {
	case name == "":
		return bad("no file name")
	case len(name) > maxFlashName:
		return bad(fmt.Sprintf("longer than %d bytes", maxFlashName))
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case name == "." || name == "..":
		return bad("not a file name")
	case strings.ContainsAny(name, "/\\"):
		return bad("flash: has no subfolders")
	case strings.Contains(name, ":"):
		return bad("only the flash: folder is available")
	case name[0] == '.':
		return bad("names may not start with a dot")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("control characters are not allowed")
		}
	}
	ext := strings.ToLower(filepath.Ext(name))
	if !flashType(ext) || len(name) == len(ext) {
		return "", fmt.Errorf("%q: %w: only license files (.lic), credentials (.cred) and tickets (.ticket) may be kept in flash:", orig, ErrFlashType)
	}
	return name, nil
}

func (f *Flash) path(name string) (string, error) {
	n, err := CleanFlashName(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(f.dir, n), nil
}

// openRegular opens a regular file without following symbolic links and
// without blocking on FIFOs.
func openRegular(path, name string) (*os.File, os.FileInfo, error) {
	fd, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, fmt.Errorf("flash:%s: %w (symbolic links are refused)", name, ErrFlashNotFile)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("flash:%s: %w", name, fs.ErrNotExist)
		}
		return nil, nil, fmt.Errorf("flash:%s: %w", name, err)
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, nil, fmt.Errorf("flash:%s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		fd.Close()
		return nil, nil, fmt.Errorf("flash:%s: %w", name, ErrFlashNotFile)
	}
	return fd, st, nil
}

// Open opens a file of flash: for reading.
func (f *Flash) Open(name string) (*os.File, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	fd, _, err := openRegular(p, filepath.Base(p))
	return fd, err
}

// ReadFile returns the contents of a file in flash:.
func (f *Flash) ReadFile(name string) ([]byte, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(p)
	fd, st, err := openRegular(p, base)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	if st.Size() > f.maxFile {
		return nil, fmt.Errorf("flash:%s: %w: %d bytes, the limit is %d", base, ErrFlashTooLarge, st.Size(), f.maxFile)
	}
	data, err := io.ReadAll(io.LimitReader(fd, f.maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("flash:%s: %w", base, err)
	}
	if int64(len(data)) > f.maxFile {
		return nil, fmt.Errorf("flash:%s: %w: the limit is %d bytes", base, ErrFlashTooLarge, f.maxFile)
	}
	return data, nil
}

// WriteFile stores data as a file in flash:, replacing any file of that name.
func (f *Flash) WriteFile(name string, data []byte) error {
	u, err := f.Create(name)
	if err != nil {
		return err
	}
	if _, err := u.WriteAt(data, 0); err != nil {
		u.Abort()
		return err
	}
	return u.Close()
}

// Stat describes one file in flash:.
func (f *Flash) Stat(name string) (FlashInfo, error) {
	p, err := f.path(name)
	if err != nil {
		return FlashInfo{}, err
	}
	base := filepath.Base(p)
	st, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return FlashInfo{}, fmt.Errorf("flash:%s: %w", base, fs.ErrNotExist)
		}
		return FlashInfo{}, fmt.Errorf("flash:%s: %w", base, err)
	}
	if !st.Mode().IsRegular() {
		return FlashInfo{}, fmt.Errorf("flash:%s: %w", base, ErrFlashNotFile)
	}
	return FlashInfo{Name: base, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// List returns the files of flash: by name. Files the folder would not
// accept (other types, links, hidden files) are not listed.
func (f *Flash) List() ([]FlashInfo, error) {
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	var out []FlashInfo
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if _, err := CleanFlashName(e.Name()); err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, FlashInfo{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime()})
	}
	return out, nil
}

// Remove deletes a file from flash:.
func (f *Flash) Remove(name string) error {
	if _, err := f.Stat(name); err != nil {
		return err
	}
	p, _ := f.path(name)
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("flash:%s: %w", filepath.Base(p), err)
	}
	return nil
}

// Rename renames a file within flash:, replacing any file named newName.
func (f *Flash) Rename(oldName, newName string) error {
	if _, err := f.Stat(oldName); err != nil {
		return err
	}
	np, err := f.path(newName)
	if err != nil {
		return err
	}
	if st, err := os.Lstat(np); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("flash:%s: %w", filepath.Base(np), ErrFlashNotFile)
	}
	op, _ := f.path(oldName)
	if err := os.Rename(op, np); err != nil {
		return fmt.Errorf("flash: rename: %w", err)
	}
	return nil
}

// Usage is how many bytes the files in flash: hold, not counting uploads in
// progress.
func (f *Flash) Usage() (int64, error) {
	return f.usage("")
}

// usage sums the listed files except the one named except.
func (f *Flash) usage(except string) (int64, error) {
	files, err := f.List()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, fi := range files {
		if fi.Name != except {
			n += fi.Size
		}
	}
	return n, nil
}

// Create starts writing a file in flash:. Size limits are checked on every
// write, so an oversized upload fails at the write that crosses the limit.
// The file appears (replacing one of the same name) when Close succeeds;
// Abort discards it.
func (f *Flash) Create(name string) (*Upload, error) {
	p, err := f.path(name)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(p)
	if st, err := os.Lstat(p); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("flash:%s: %w", base, ErrFlashNotFile)
	}
	tmp, err := os.CreateTemp(f.dir, uploadPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("flash:%s: %w", base, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("flash:%s: %w", base, err)
	}
	u := &Upload{f: f, name: base, target: p, tmp: tmp}
	f.mu.Lock()
	f.pending[u] = 0
	f.mu.Unlock()
	return u, nil
}

// Upload is a file being written into flash:.
type Upload struct {
	f      *Flash
	name   string
	target string

	mu   sync.Mutex
	tmp  *os.File
	size int64 // highest offset written
	err  error // first failure; the upload can only be aborted
	done bool
}

// WriteAt writes p at off. It fails, and the upload with it, when the file
// would grow beyond the per-file limit or flash: beyond its total.
func (u *Upload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, fmt.Errorf("flash:%s: upload already finished", u.name)
	}
	if u.err != nil {
		return 0, u.err
	}
	if off < 0 {
		return 0, fmt.Errorf("flash:%s: negative offset", u.name)
	}
	end := off + int64(len(p))
	if end > u.f.maxFile || end < off {
		u.err = fmt.Errorf("flash:%s: %w: the limit is %d bytes", u.name, ErrFlashTooLarge, u.f.maxFile)
		return 0, u.err
	}
	if end > u.size {
		if err := u.f.reserve(u, end); err != nil {
			u.err = err
			return 0, err
		}
		u.size = end
	}
	n, err := u.tmp.WriteAt(p, off)
	if err != nil {
		u.err = fmt.Errorf("flash:%s: %w", u.name, err)
		return n, u.err
	}
	return n, nil
}

// reserve records that u needs size bytes, if flash: has room for them.
func (f *Flash) reserve(u *Upload, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	used, err := f.usage(u.name)
	if err != nil {
		return err
	}
	for other, n := range f.pending {
		if other != u {
			used += n
		}
	}
	if used+size > f.maxTotal {
		return fmt.Errorf("flash:%s: %w: %d of %d bytes in use", u.name, ErrFlashFull, used, f.maxTotal)
	}
	f.pending[u] = size
	return nil
}

func (f *Flash) release(u *Upload) {
	f.mu.Lock()
	delete(f.pending, u)
	f.mu.Unlock()
}

// Close completes the upload: the data is synced and replaces the target.
// After a failed write Close discards the upload and returns that failure.
func (u *Upload) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return u.err
	}
	u.done = true
	tmpName := u.tmp.Name()
	if u.err != nil {
		u.tmp.Close()
		os.Remove(tmpName)
		u.f.release(u)
		return u.err
	}
	err := u.tmp.Sync()
	if cerr := u.tmp.Close(); err == nil {
		err = cerr
	}
	// The file moves from reserved to stored in one step, so a concurrent
	// reserve never counts it twice.
	u.f.mu.Lock()
	if err == nil {
		err = os.Rename(tmpName, u.target)
	}
	delete(u.f.pending, u)
	u.f.mu.Unlock()
	if err != nil {
		os.Remove(tmpName)
		u.err = fmt.Errorf("flash:%s: %w", u.name, err)
		return u.err
	}
	if d, err := os.Open(u.f.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Abort discards the upload.
func (u *Upload) Abort() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return
	}
	u.done = true
	if u.err == nil {
		u.err = fmt.Errorf("flash:%s: upload aborted", u.name)
	}
	u.tmp.Close()
	os.Remove(u.tmp.Name())
	u.f.release(u)
}
