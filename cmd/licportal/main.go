package main

import (
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], &env{Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now}))
}
