//go:build !unix

package syslog

import (
	"net"
	"testing"
)

// listenSmallBuffer listens on loopback; without SO_RCVBUF the receiver's
// buffer is the system default, which only makes the test send more.
func listenSmallBuffer(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
