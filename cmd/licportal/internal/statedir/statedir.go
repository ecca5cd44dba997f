package statedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/licensed-dev/licensed/license"
)

// File names inside the state directory.
const (
	SigningKeyFile = "signing.key" // Ed25519 license signing key, PEM PKCS #8, 0600
	TrustFile      = "trust.pem"   // public keys agents trust (licensed --trust)
	CAFile         = "ca.pem"      // CA certificate (licensed --portal-ca)
	CAKeyFile      = "ca.key"      // CA private key, 0600
	TLSCertFile    = "tls.pem"     // HTTPS server certificate
	TLSKeyFile     = "tls.key"     // HTTPS server private key, 0600
)

// Permissions of what the directory holds.
const (
	DirPerm    fs.FileMode = 0o700
	SecretPerm fs.FileMode = 0o600 // private keys
	PublicPerm fs.FileMode = 0o644 // certificates and public keys
)

// Dir is a state directory.
type Dir struct {
	Path string
}

// New returns the state directory at path, which must not be empty.
func New(path string) (Dir, error) {
	if path == "" {
		return Dir{}, errors.New("state directory: empty path")
	}
	return Dir{Path: filepath.Clean(path)}, nil
}

// File returns the path of name inside the directory.
func (d Dir) File(name string) string { return filepath.Join(d.Path, name) }

// Create makes the directory if needed and restricts it to its owner, as
// it holds private keys.
func (d Dir) Create() error {
	if err := os.MkdirAll(d.Path, DirPerm); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if err := os.Chmod(d.Path, DirPerm); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	return nil
}

// Exists reports whether name exists in the directory.
func (d Dir) Exists(name string) (bool, error) {
	_, err := os.Lstat(d.File(name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// LoadSigner reads the license signing key.
func (d Dir) LoadSigner() (*license.Signer, error) {
	path := d.File(SigningKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no signing key at %s (run licportal init --state-dir %s first)", path, d.Path)
	}
	if err != nil {
		return nil, err
	}
	priv, err := license.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return license.NewSigner(priv), nil
}

// WriteFile replaces name in the directory with data, atomically: a reader
// sees the old file or the new one, never a part, and a crash leaves no
// half-written key behind.
func (d Dir) WriteFile(name string, data []byte, perm fs.FileMode) error {
	path := d.File(name)
	tmp, err := os.CreateTemp(d.Path, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op error
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(d.Path)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
