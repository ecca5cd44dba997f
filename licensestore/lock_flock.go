//go:build linux || android || darwin || freebsd || netbsd || openbsd || dragonfly

package licensestore

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes the exclusive flock bbolt itself takes on the file, without
// waiting. Locks belong to the open file, so a second open of the same path
// conflicts even within one process.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}
