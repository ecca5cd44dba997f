// Package unixsock holds what the daemon's control socket and the portal's
// admin socket share: making a unix socket in place of a stale one, and
// asking the kernel who is at the other end (SO_PEERCRED).
package unixsock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Listen makes a unix socket at path with the given mode. A socket file
// left by a process that died is replaced; one that still answers is
// refused, naming what (e.g. "control socket") is in use.
func Listen(path string, mode os.FileMode, what string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s %s is in use by another process", what, path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ln, nil
}

// PeerCred returns the credentials (pid, uid, gid) of the process at the
// other end of a unix connection.
func PeerCred(c net.Conn) (*unix.Ucred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, errors.New("not a unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if cerr != nil {
		return nil, cerr
	}
	return cred, err
}
