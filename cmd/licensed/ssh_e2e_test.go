package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sshClient runs the OpenSSH client against the device.
type sshClient struct {
	t    *testing.T
	port int
	key  string
	user string
}

func (c sshClient) opts() []string {
	return []string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-i", c.key}
}

// run executes one device command; stdin may be nil.
func (c sshClient) run(stdin []byte, words ...string) (string, string, int) {
	args := append(c.opts(), "-p", fmt.Sprint(c.port), c.user+"@127.0.0.1")
	args = append(args, words...)
	cmd := exec.Command("ssh", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("ssh: %v", err)
	}
	return out.String(), errb.String(), code
}

func (c sshClient) must(stdin []byte, words ...string) string {
	c.t.Helper()
	out, errs, code := c.run(stdin, words...)
	if code != 0 {
		c.t.Fatalf("ssh %s: exit %d\n%s%s", strings.Join(words, " "), code, out, errs)
	}
	return out
}

func sshKey(t *testing.T, dir, name string) string {
	t.Helper()
	key := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return key
}

// TestSSHEndToEnd is the agent core's license story at the device prompt
// over the OpenSSH client: files carried in by stdin and by scp, privilege 1
// refused a change, a wrong key refused.
func TestSSHEndToEnd(t *testing.T) {
	lookTool(t, "ssh")
	lookTool(t, "scp")
	dir := t.TempDir()
	admin := sshKey(t, dir, "admin")
	oper := sshKey(t, dir, "oper")
	stranger := sshKey(t, dir, "stranger")
	operPub, _ := os.ReadFile(oper + ".pub")
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	conf := filepath.Join(dir, "licensed.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("username oper privilege 1 key %s\nusername viewer privilege 1 secret %s\n",
		strings.TrimSpace(string(operPub)), hash)), 0o600)

	port := freeTCPPort(t)
	portal := portalDir(t)
	d := startDevice(t, portal, "--config", conf,
		"--ssh-listen", fmt.Sprintf("127.0.0.1:%d", port), "--ssh-authorized-keys", admin+".pub")
	as := sshClient{t: t, port: port, key: admin, user: "admin"}
	op := sshClient{t: t, port: port, key: oper, user: "oper"}

	wantLines(t, as.must(nil, "sh", "lic", "udi"), "*0", "WS-C3750E-24TD-S:FDO1234X0AB")
	udi := "WS-C3750E-24TD-S:FDO1234X0AB"
	ipLic, _ := os.ReadFile(issue(t, portal, "--udi", udi, "--feature", "ipservices"))
	wantLines(t, as.must(ipLic, "license", "install", "-"), "1/1 licenses were successfully installed")

	// A file carried in by scp lands in flash: and installs from there.
	adv := issue(t, portal, "--udi", udi, "--feature", "advipservices", "--type", "extension", "--days", "30")
	scp := exec.Command("scp", append(as.opts(), "-P", fmt.Sprint(port), adv, "admin@127.0.0.1:adv.lic")...)
	if out, err := scp.CombinedOutput(); err != nil {
		t.Fatalf("scp: %v\n%s", err, out)
	}
	wantLines(t, as.must(nil, "license", "install", "flash:adv.lic"), "Installing...Feature:advipservices...Successful:Supported")

	// Privilege 1 reads but may not change.
	wantLines(t, op.must(nil, "show", "license"), "Feature: ipservices")
	if out, errs, code := op.run(nil, "license", "boot", "level", "advipservices"); code != 1 || !strings.Contains(out+errs, "Authorization failed") {
		t.Fatalf("privilege 1 change: exit %d\n%s%s", code, out, errs)
	}
	// A key nobody configured gets nowhere.
	if _, _, code := (sshClient{t: t, port: port, key: stranger, user: "admin"}).run(nil, "show", "license"); code != 255 {
		t.Fatalf("unknown key: exit %d, want 255", code)
	}

	as.must(nil, "license", "boot", "level", "advipservices")
	as.must(nil, "license", "accept", "end", "user", "agreement")
	as.must(nil, "reload")
	wantLines(t, as.must(nil, "show", "version"), "License Level: advipservices")
	// The extension serves before the built-in evaluation.
	if l := d.license("advipservices", "extension"); l.State != "inUse" {
		t.Fatalf("extension after reload: %s", l.State)
	}
	// The audit log names the SSH user and source of every change.
	hist := as.must(nil, "show", "license", "history")
	wantLines(t, hist, "admin", "ssh 127.0.0.1:", "boot-level")
	if out, errs, code := as.run(nil, "sh", "lic", "bogus"); code != 2 || !strings.Contains(errs, "% Invalid input") {
		t.Fatalf("bad command over ssh: exit %d\n%s%s", code, out, errs)
	}
	// license save lands in flash: and comes back by scp.
	as.must(nil, "license", "save", "flash:backup.lic")
	back := filepath.Join(dir, "back.lic")
	scp = exec.Command("scp", append(as.opts(), "-P", fmt.Sprint(port), "admin@127.0.0.1:backup.lic", back)...)
	if out, err := scp.CombinedOutput(); err != nil {
		t.Fatalf("scp get: %v\n%s", err, out)
	}
	if data, _ := os.ReadFile(back); !bytes.Contains(data, []byte("feature: advipservices")) {
		t.Fatalf("saved file: %s", data)
	}
}
