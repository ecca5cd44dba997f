//go:build !(linux || android || darwin || freebsd || netbsd || openbsd || dragonfly)

package licensestore

import (
	"fmt"
	"os"
	"runtime"
)

// tryLock: the store locks with flock, which this platform lacks.
func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("file locking is not supported on %s", runtime.GOOS)
}
