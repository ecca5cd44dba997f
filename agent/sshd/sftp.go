package sshd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/pkg/sftp"
)

// sftpError carries an SFTP status code for pkg/sftp and the Flash error
// for people.
type sftpError struct {
	code error
	err  error
}

func (e *sftpError) Error() string   { return e.err.Error() }
func (e *sftpError) Unwrap() []error { return []error{e.code, e.err} }

// sftpErr maps Flash errors to SFTP status codes.
func sftpErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return &sftpError{sftp.ErrSSHFxNoSuchFile, err}
	case errors.Is(err, ErrFlashName), errors.Is(err, ErrFlashType), errors.Is(err, ErrFlashNotFile),
		errors.Is(err, errReadOnly), errors.Is(err, errNoDirs), errors.Is(err, errUnsupported):
		return &sftpError{sftp.ErrSSHFxPermissionDenied, err}
	default:
		return &sftpError{sftp.ErrSSHFxFailure, err}
	}
}

var (
	errReadOnly = errors.New("read-only at this privilege level")
	errNoDirs   = errors.New("flash: has no subfolders")
	// errUnsupported: links and other operations flash: does not offer.
	errUnsupported = errors.New("not supported in flash:")
)

// flashFS serves flash: to pkg/sftp's request server.
type flashFS struct {
	f        *Flash
	readOnly bool
	audit    func(event string)
	// explain gets the reason for a refusal: SFTP clients show only a
	// status code ("Failure"), but pass the session's stderr through.
	explain io.Writer
}

// fail maps err for pkg/sftp and explains it on stderr, except for names
// that do not exist (clients probe for those routinely).
func (h *flashFS) fail(err error) error {
	if err != nil && !errors.Is(err, fs.ErrNotExist) && h.explain != nil {
		fmt.Fprintf(h.explain, "%% %v\n", err)
	}
	return sftpErr(err)
}

func newFlashHandlers(fsys *flashFS) sftp.Handlers {
	return sftp.Handlers{FileGet: fsys, FilePut: fsys, FileCmd: fsys, FileList: fsys}
}

func isRoot(p string) bool { return p == "/" || p == "" || p == "." }

func (h *flashFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	fd, err := h.f.Open(r.Filepath)
	if err != nil {
		return nil, h.fail(err)
	}
	return fd, nil
}

func (h *flashFS) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	if h.readOnly {
		return nil, h.fail(fmt.Errorf("flash:%s: %w", strings.TrimPrefix(r.Filepath, "/"), errReadOnly))
	}
	if r.Pflags().Append {
		return nil, h.fail(fmt.Errorf("%q: %w: appending is not supported; upload the whole file", r.Filepath, ErrFlashNotFile))
	}
	u, err := h.f.Create(r.Filepath)
	if err != nil {
		return nil, h.fail(err)
	}
	return &sftpUpload{u: u, h: h}, nil
}

func (h *flashFS) Filecmd(r *sftp.Request) error {
	name := strings.TrimPrefix(r.Filepath, "/")
	switch r.Method {
	case "Setstat":
		// Clients set times and modes after an upload; flash: keeps neither,
		// but the file must be one flash: serves.
		if isRoot(r.Filepath) {
			return nil
		}
		_, err := h.f.Stat(r.Filepath)
		return h.fail(err)
	}
	if h.readOnly {
		return h.fail(fmt.Errorf("flash:%s: %w", name, errReadOnly))
	}
	switch r.Method {
	case "Remove":
		if err := h.f.Remove(r.Filepath); err != nil {
			return h.fail(err)
		}
		h.audit("sftp remove flash:" + name)
		return nil
	case "Rename", "PosixRename":
		if err := h.f.Rename(r.Filepath, r.Target); err != nil {
			return h.fail(err)
		}
		h.audit("sftp rename flash:" + name + " to flash:" + strings.TrimPrefix(r.Target, "/"))
		return nil
	case "Mkdir", "Rmdir":
		return h.fail(fmt.Errorf("%s: %w", r.Filepath, errNoDirs))
	default: // Link, Symlink and anything newer
		return h.fail(fmt.Errorf("%s %s: %w", strings.ToLower(r.Method), r.Filepath, errUnsupported))
	}
}

func (h *flashFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "List":
		if !isRoot(r.Filepath) {
			if _, err := h.f.Stat(r.Filepath); err == nil {
				return nil, h.fail(fmt.Errorf("%s: %w", r.Filepath, errNoDirs))
			}
			return nil, h.fail(fmt.Errorf("%s: %w", r.Filepath, fs.ErrNotExist))
		}
		files, err := h.f.List()
		if err != nil {
			return nil, h.fail(err)
		}
		l := make(listerAt, len(files))
		for i, fi := range files {
			l[i] = fileInfo{name: fi.Name, size: fi.Size, mod: fi.ModTime}
		}
		return l, nil
	case "Stat", "Lstat", "Readlink":
		if isRoot(r.Filepath) {
			var mod time.Time
			if st, err := os.Stat(h.f.dir); err == nil {
				mod = st.ModTime()
			}
			return listerAt{fileInfo{name: "/", dir: true, mod: mod}}, nil
		}
		fi, err := h.f.Stat(r.Filepath)
		if err != nil {
			if errors.Is(err, ErrFlashName) || errors.Is(err, ErrFlashType) {
				// Nothing by that name can exist here.
				return nil, h.fail(fmt.Errorf("%s: %w", r.Filepath, fs.ErrNotExist))
			}
			return nil, h.fail(err)
		}
		return listerAt{fileInfo{name: fi.Name, size: fi.Size, mod: fi.ModTime}}, nil
	}
	return nil, h.fail(fmt.Errorf("%s %s: %w", strings.ToLower(r.Method), r.Filepath, errUnsupported))
}

// sftpUpload adapts an Upload to pkg/sftp: errors carry SFTP codes, and a
// transfer cut short is discarded rather than stored.
type sftpUpload struct {
	u *Upload
	h *flashFS
}

func (w *sftpUpload) WriteAt(p []byte, off int64) (int, error) {
	w.u.mu.Lock()
	failed := w.u.err != nil
	w.u.mu.Unlock()
	n, err := w.u.WriteAt(p, off)
	if failed {
		return n, sftpErr(err) // explained once already
	}
	return n, w.h.fail(err)
}

func (w *sftpUpload) Close() error {
	w.u.mu.Lock()
	size, aborted := w.u.size, w.u.done
	w.u.mu.Unlock()
	if err := w.u.Close(); err != nil {
		return sftpErr(err)
	}
	if !aborted {
		w.h.audit(fmt.Sprintf("sftp put flash:%s (%d bytes)", w.u.name, size))
	}
	return nil
}

func (w *sftpUpload) TransferError(error) { w.u.Abort() }

type listerAt []os.FileInfo

func (l listerAt) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if n < len(out) {
		return n, io.EOF
	}
	return n, nil
}

// fileInfo is what SFTP clients see: no owner, fixed modes.
type fileInfo struct {
	name string
	size int64
	mod  time.Time
	dir  bool
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) ModTime() time.Time { return fi.mod }
func (fi fileInfo) IsDir() bool        { return fi.dir }
func (fi fileInfo) Sys() any           { return nil }
func (fi fileInfo) Mode() os.FileMode {
	if fi.dir {
		return os.ModeDir | 0o700
	}
	return 0o600
}
