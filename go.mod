module github.com/licensed-dev/licensed

go 1.26.8

require (
	github.com/gliderlabs/ssh v0.3.8
	github.com/gosnmp/gosnmp v1.47.0
	github.com/pkg/sftp v1.13.12
	github.com/spf13/cobra v1.10.2
	go.etcd.io/bbolt v1.5.0
	golang.org/x/crypto v0.58.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

require (
	github.com/anmitsu/go-shlex v0.0.0-20200514113438-38f4b401e2be // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/kr/fs v0.1.0 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
)
