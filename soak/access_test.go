package soak

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/license"
)

const (
	viewerName = "viewer"
	viewerPass = "viewer-pass-1"
	v3User     = "nms"
	v3Auth     = "auth-pass-123"
	v3Priv     = "priv-pass-123"
)

// accessDevice: SSH with an authorized key (privilege 15) and a password
// user with privilege 1; SNMP v3 only (no community).
func accessDevice(t *testing.T, p *portal) *loadDevice {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(viewerPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	signer, _ := gossh.NewSignerFromKey(priv)
	keys := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	ld := &loadDevice{signer: signer, sshAddr: freePort(t, "tcp"), snmpAddr: freePort(t, "udp")}
	ld.device = newDevice(t, p,
		"--ssh-listen", ld.sshAddr, "--ssh-authorized-keys", keys,
		"--ssh-user", fmt.Sprintf("%s privilege 1 secret %s", viewerName, hash),
		"--snmp-listen", ld.snmpAddr, "--snmp-v3-user", strings.Join([]string{v3User, "SHA", v3Auth, "AES", v3Priv}, ":"))
	ld.start()
	return ld
}

// sshDialFrom connects from a given loopback source address: failed
// logins block their source for a while, so each probe uses its own.
func sshDialFrom(src, addr string, cfg *gossh.ClientConfig) (*gossh.Client, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c, chans, reqs, err := gossh.NewClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return gossh.NewClient(c, chans, reqs), nil
}

// lyingSigner offers one public key but signs with another private key:
// a client that names an authorized key it does not hold.
type lyingSigner struct {
	pub  gossh.PublicKey
	real gossh.Signer
}

func (s lyingSigner) PublicKey() gossh.PublicKey { return s.pub }
func (s lyingSigner) Sign(r io.Reader, data []byte) (*gossh.Signature, error) {
	return s.real.Sign(r, data)
}

// TestSSHNeverOpensWithoutAuthentication: every way in without a valid
// credential ends before a session exists.
func TestSSHNeverOpensWithoutAuthentication(t *testing.T) {
	p := newPortal(t)
	ld := accessDevice(t, p)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	other, _ := gossh.NewSignerFromKey(otherPriv)
	cfg := func(user string, auth ...gossh.AuthMethod) *gossh.ClientConfig {
		return &gossh.ClientConfig{User: user, Auth: auth, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
	}
	probes := []struct {
		name string
		cfg  *gossh.ClientConfig
	}{
		{"no credentials (none method)", cfg("admin")},
		{"unknown key", cfg("admin", gossh.PublicKeys(other))},
		{"authorized key named, other key signs", cfg("admin", gossh.PublicKeys(lyingSigner{pub: ld.signer.PublicKey(), real: other}))},
		{"wrong password", cfg(viewerName, gossh.Password("not-the-password"))},
		{"password of another user", cfg("admin", gossh.Password(viewerPass))},
		{"empty password", cfg(viewerName, gossh.Password(""))},
		{"keyboard-interactive", cfg(viewerName, gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{viewerPass}, nil
		}))},
		{"password user's name with the admin key offered unproven", cfg(viewerName,
			gossh.PublicKeys(lyingSigner{pub: ld.signer.PublicKey(), real: other}), gossh.Password("wrong"))},
	}
	for i, pr := range probes {
		src := "127.0.0." + strconv.Itoa(10+i)
		c, err := sshDialFrom(src, ld.sshAddr, pr.cfg)
		if err == nil {
			out, runErr := sshRun(c, "show license udi")
			c.Close()
			t.Fatalf("%s: logged in; a session ran (%v): %s", pr.name, runErr, out)
		}
		if !strings.Contains(err.Error(), "unable to authenticate") && !strings.Contains(err.Error(), "handshake failed") {
			t.Fatalf("%s: unexpected failure %v", pr.name, err)
		}
	}
	// The same source, failing again and again, is refused even with
	// the right key afterwards (the login rate limit).
	src := "127.0.0.40"
	for range 6 {
		if c, err := sshDialFrom(src, ld.sshAddr, cfg(viewerName, gossh.Password("wrong"))); err == nil {
			c.Close()
			t.Fatal("wrong password accepted")
		}
	}
	if c, err := sshDialFrom(src, ld.sshAddr, ld.sshConfig("admin")); err == nil {
		c.Close()
		t.Fatal("a source blocked after repeated failures logged in")
	}
	// A good key from another source still works: the probes above were
	// refused for what they were, not because SSH was down.
	c, err := sshDialFrom("127.0.0.41", ld.sshAddr, ld.sshConfig("admin"))
	if err != nil {
		t.Fatalf("authorized key refused: %v\n%s", err, ld.log)
	}
	defer c.Close()
	if out, err := sshRun(c, "show license udi"); err != nil || !strings.Contains(out, devUDI) {
		t.Fatalf("show license udi with the authorized key: %v\n%s", err, out)
	}
	figure(t, "SSH: %d ways in without a valid credential refused before any session; a source failing 6 times is blocked", len(probes))
}

// TestReadOnlyCannotChange: a privilege 1 SSH user and a non-admin socket
// caller (uid 65534) can read but change nothing.
func TestReadOnlyCannotChange(t *testing.T) {
	p := newPortal(t)
	ld := accessDevice(t, p)
	paid := p.license(t, "ipservices", nil)
	ld.must("license", "install", p.file(t, paid))
	before := ld.status()
	changes := [][]string{
		{"license", "install", "-"},
		{"license", "clear", "ipservices"},
		{"license", "boot", "level", "advipservices"},
		{"license", "accept", "end", "user", "agreement"},
		{"license", "comment", "add", "ipservices", "changed"},
		{"reload"},
	}
	newLic := license.Encode(p.license(t, "advipservices", nil))

	// SSH, privilege 1.
	c, err := sshDialFrom("127.0.0.50", ld.sshAddr, &gossh.ClientConfig{User: viewerName,
		Auth: []gossh.AuthMethod{gossh.Password(viewerPass)}, HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		t.Fatalf("viewer login: %v\n%s", err, ld.log)
	}
	defer c.Close()
	if out, err := sshRun(c, "show license udi"); err != nil || !strings.Contains(out, devUDI) {
		t.Fatalf("privilege 1 cannot read: %v\n%s", err, out)
	}
	for _, w := range changes {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		s.Stdin = bytes.NewReader(append(newLic, "y\n"...))
		out, err := s.CombinedOutput(strings.Join(w, " "))
		s.Close()
		var ee *gossh.ExitError
		if !errors.As(err, &ee) || ee.ExitStatus() == 0 {
			t.Fatalf("privilege 1 ran %q: %v\n%s", strings.Join(w, " "), err, out)
		}
		if !strings.Contains(string(out), "privilege") && !strings.Contains(string(out), "Authorization") &&
			!strings.Contains(string(out), "Invalid input") {
			t.Errorf("privilege 1 %q refused without saying why: %s", strings.Join(w, " "), out)
		}
	}

	// The socket, as uid 65534. licensectl, the socket and the license
	// file must be reachable for that user.
	if os.Getuid() != 0 {
		t.Skip("running licensectl as another user needs root (the test runs as uid " + strconv.Itoa(os.Getuid()) + ")")
	}
	for _, dir := range []string{binDir, ld.dir, filepath.Dir(ld.dir)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(ld.dir, "new.lic")
	if err := os.WriteFile(file, newLic, 0o644); err != nil {
		t.Fatal(err)
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	if out, code := ld.ctlAs(nobody, "show", "license", "udi"); code != 0 || !strings.Contains(out, devUDI) {
		t.Fatalf("uid 65534 cannot read: exit %d\n%s", code, out)
	}
	for _, w := range changes {
		if w[len(w)-1] == "-" {
			w = append(w[:len(w)-1:len(w)-1], file)
		}
		out, code := ld.ctlAs(nobody, w...)
		if code != 1 || !strings.Contains(out, "privilege") {
			t.Fatalf("uid 65534 %q: exit %d, want 1 and an authorization message\n%s", strings.Join(w, " "), code, out)
		}
	}
	after := ld.status()
	if !slices.Equal(licIDs(before), licIDs(after)) || before.Level != after.Level || before.NextLevel != after.NextLevel ||
		before.Statistics.Reloads != after.Statistics.Reloads {
		t.Fatalf("read-only callers changed the device:\nbefore %v level %s/%s\nafter  %v level %s/%s",
			licIDs(before), before.Level, before.NextLevel, licIDs(after), after.Level, after.NextLevel)
	}
	figure(t, "privilege 1 over SSH and uid 65534 on the socket: %d state-changing commands each, all refused, state unchanged", len(changes))
}

// licIDs lists a status's licenses with their comments and EULA state,
// sorted: what a read-only caller must not be able to change.
func licIDs(s *agent.Status) []string {
	var out []string
	for _, l := range s.Licenses {
		out = append(out, fmt.Sprintf("%s %s %s eula=%v %q", l.ID, l.Feature, l.Type, l.EULAAccepted, l.Comment))
	}
	slices.Sort(out)
	return append(out, fmt.Sprintf("configured=%q eula=%v", s.ConfiguredLevel, s.EULAAccepted))
}

// v3 is an SNMPv3 client of the access device.
func (ld *loadDevice) v3(t *testing.T, user, auth, priv string, flags gosnmp.SnmpV3MsgFlags) *gosnmp.GoSNMP {
	t.Helper()
	host, port, _ := net.SplitHostPort(ld.snmpAddr)
	pn, _ := strconv.Atoi(port)
	sp := &gosnmp.UsmSecurityParameters{UserName: user}
	if flags&gosnmp.AuthNoPriv != 0 {
		sp.AuthenticationProtocol, sp.AuthenticationPassphrase = gosnmp.SHA, auth
	}
	if flags&gosnmp.AuthPriv == gosnmp.AuthPriv {
		sp.PrivacyProtocol, sp.PrivacyPassphrase = gosnmp.AES, priv
	}
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(pn), Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel,
		MsgFlags: flags, SecurityParameters: sp, Timeout: 700 * time.Millisecond, Retries: 0}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

// sysDescrOf returns sysDescr.0 if the agent answered it.
func sysDescrOf(g *gosnmp.GoSNMP) (string, error) {
	r, err := g.Get([]string{".1.3.6.1.2.1.1.1.0"})
	if err != nil {
		return "", err
	}
	if r.PDUType != gosnmp.GetResponse || len(r.Variables) != 1 || r.Variables[0].Type != gosnmp.OctetString {
		return "", fmt.Errorf("no answer: PDU %v, %+v", r.PDUType, r.Variables)
	}
	return string(r.Variables[0].Value.([]byte)), nil
}

// TestSNMPv3OnlyAccess: with only a v3 user configured, wrong keys, wrong
// users, lower security levels and every community get nothing.
func TestSNMPv3OnlyAccess(t *testing.T) {
	p := newPortal(t)
	ld := accessDevice(t, p)
	good := ld.v3(t, v3User, v3Auth, v3Priv, gosnmp.AuthPriv)
	good.Timeout, good.Retries = 3*time.Second, 2 // a busy machine must not fail the one that should pass
	if d, err := good.Get([]string{".1.3.6.1.2.1.1.1.0"}); err != nil || len(d.Variables) != 1 {
		t.Fatalf("the configured v3 user gets no answer: %v\n%s", err, ld.log)
	}
	refused := []struct {
		name string
		g    *gosnmp.GoSNMP
	}{
		{"wrong auth key", ld.v3(t, v3User, "wrong-auth-123", v3Priv, gosnmp.AuthPriv)},
		{"wrong priv key", ld.v3(t, v3User, v3Auth, "wrong-priv-123", gosnmp.AuthPriv)},
		{"unknown user", ld.v3(t, "intruder", v3Auth, v3Priv, gosnmp.AuthPriv)},
		{"authNoPriv for an authPriv user", ld.v3(t, v3User, v3Auth, "", gosnmp.AuthNoPriv)},
		{"noAuthNoPriv", ld.v3(t, v3User, "", "", gosnmp.NoAuthNoPriv)},
	}
	host, port, _ := net.SplitHostPort(ld.snmpAddr)
	pn, _ := strconv.Atoi(port)
	for _, c := range []struct {
		v         gosnmp.SnmpVersion
		community string
	}{{gosnmp.Version2c, "public"}, {gosnmp.Version2c, v3User}, {gosnmp.Version1, "public"}, {gosnmp.Version2c, ""}} {
		g := &gosnmp.GoSNMP{Target: host, Port: uint16(pn), Version: c.v, Community: c.community, Timeout: 500 * time.Millisecond}
		if err := g.Connect(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Conn.Close() })
		refused = append(refused, struct {
			name string
			g    *gosnmp.GoSNMP
		}{fmt.Sprintf("%v community %q", c.v, c.community), g})
	}
	for _, r := range refused {
		if d, err := sysDescrOf(r.g); err == nil {
			t.Fatalf("%s: the agent answered %q", r.name, d)
		}
	}
	figure(t, "SNMP v3-only: %d wrong-key, wrong-user, low-security and community requests, none answered", len(refused))
}

// TestFilesStayInFlash: `license save` over SSH and SFTP reach only the
// flash: folder; the device key and the store next to it stay out of reach.
func TestFilesStayInFlash(t *testing.T) {
	p := newPortal(t)
	ld := accessDevice(t, p)
	ld.must("license", "install", p.file(t, p.license(t, "ipservices", nil)))
	c, err := sshDialFrom("127.0.0.60", ld.sshAddr, ld.sshConfig("admin"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, err := sshRun(c, "license save flash:ok.lic"); err != nil {
		t.Fatalf("license save flash:ok.lic: %v\n%s", err, out)
	}
	flash := filepath.Join(ld.state, "flash")
	if _, err := os.Stat(filepath.Join(flash, "ok.lic")); err != nil {
		t.Fatalf("saved file not in the flash folder: %v", err)
	}
	escapes := []string{"../evil.lic", "flash:../evil.lic", "flash:/../evil.lic", "/tmp/evil.lic",
		"flash:../../evil.lic", "flash:sub/evil.lic", "flash:evil.sh", "flash:.evil.lic", "flash:..", "flash:%2e%2e/evil.lic"}
	for _, name := range escapes {
		out, err := sshRun(c, "license save "+name)
		if err == nil {
			t.Errorf("license save %s succeeded:\n%s", name, out)
		}
	}

	// A link planted in the folder (by someone with a shell) is not followed.
	if err := os.Symlink("../device.key", filepath.Join(flash, "link.lic")); err != nil {
		t.Fatal(err)
	}
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer sc.Close()
	secret, _ := os.ReadFile(filepath.Join(ld.state, "device.key"))
	for _, name := range []string{"../device.key", "/../device.key", "../../state/device.key", "link.lic",
		"../licenses.db", "/etc/passwd", "..", "../flash/../device.key"} {
		f, err := sc.Open(name)
		if err != nil {
			continue
		}
		data, _ := io.ReadAll(f)
		f.Close()
		if len(data) > 0 && (bytes.Equal(data, secret) || !strings.HasPrefix(string(data), "licensed-license-file")) {
			t.Fatalf("sftp read %s outside the folder (%d bytes)", name, len(data))
		}
	}
	// SFTP names are resolved against the folder's root, as in a chroot:
	// "../x.lic" is "/x.lic", inside the folder. A write there is fine; a
	// write anywhere else, or of a name or type the folder does not hold,
	// is not.
	for _, name := range []string{"../evil.lic", "/../evil.lic", "../../evil.lic"} {
		if f, err := sc.Create(name); err == nil {
			f.Write([]byte("x"))
			f.Close()
		}
	}
	for _, name := range []string{"sub/evil.lic", "evil.sh", ".evil.lic"} {
		if f, err := sc.Create(name); err == nil {
			f.Write([]byte("x"))
			if err := f.Close(); err == nil {
				t.Errorf("sftp created %s", name)
			}
		}
	}
	sc.Rename("ok.lic", "../moved.lic")
	if err := sc.Symlink("../device.key", "k.lic"); err == nil {
		t.Errorf("sftp made a symbolic link")
	}
	if err := sc.Mkdir("sub"); err == nil {
		t.Errorf("sftp made a directory")
	}
	// Nothing named evil or moved exists outside the folder, and inside it
	// only plain .lic files.
	filepath.WalkDir(filepath.Dir(ld.dir), func(path string, d os.DirEntry, err error) error {
		if err != nil || !(strings.Contains(d.Name(), "evil") || strings.Contains(d.Name(), "moved")) {
			return nil
		}
		if filepath.Dir(path) != flash || !d.Type().IsRegular() || filepath.Ext(path) != ".lic" {
			t.Errorf("a file escaped: %s", path)
		}
		return nil
	})
	for _, p := range []string{"/tmp/evil.lic", "/evil.lic", "/moved.lic"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a file escaped: %s", p)
		}
	}
	figure(t, "flash: folder: %d license save names aimed outside it or at bad names or types refused; SFTP: 8 reads of the device key, the store and system files refused, "+
		"writes and renames with .. kept inside the folder (chroot-like), bad names, links and directories refused", len(escapes))
}
