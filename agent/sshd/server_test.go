package sshd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	key := newClientKey(t, dir, "k")
	good := func() Config {
		return Config{
			HostKeyPath:    filepath.Join(t.TempDir(), "hostkey"),
			AuthorizedKeys: []gossh.PublicKey{key.Pub},
			Shell:          &fakeShell{},
			Logf:           t.Logf,
		}
	}
	openKey := filepath.Join(dir, "open_key")
	if err := os.WriteFile(openKey, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	badKey := filepath.Join(dir, "bad_key")
	if err := os.WriteFile(badKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"no shell", func(c *Config) { c.Shell = nil }, "no Shell"},
		{"nobody can log in", func(c *Config) { c.AuthorizedKeys = nil }, ErrNoLogin.Error()},
		{"users that cannot log in", func(c *Config) {
			c.AuthorizedKeys = nil
			c.Users = []User{{Name: "a", Privilege: 1}}
		}, ErrNoLogin.Error()},
		{"no host key path", func(c *Config) { c.HostKeyPath = "" }, "no host key path"},
		{"host key readable by others", func(c *Config) { c.HostKeyPath = openKey }, "too open"},
		{"damaged host key", func(c *Config) { c.HostKeyPath = badKey }, "remove the file to make a new key"},
		{"host key is a directory", func(c *Config) { c.HostKeyPath = dir }, "not a regular file"},
		{"duplicate user", func(c *Config) {
			c.Users = []User{{Name: "a", Privilege: 1, Keys: []gossh.PublicKey{key.Pub}}, {Name: "a", Privilege: 1, Keys: []gossh.PublicKey{key.Pub}}}
		}, "listed twice"},
		{"privilege 0", func(c *Config) { c.Users = []User{{Name: "a", Keys: []gossh.PublicKey{key.Pub}}} }, "privilege 0"},
		{"bad user name", func(c *Config) { c.Users = []User{{Name: "a b", Privilege: 1, Keys: []gossh.PublicKey{key.Pub}}} }, "only letters"},
		{"bad hash", func(c *Config) { c.Users = []User{{Name: "a", Privilege: 1, PasswordHash: "plain"}} }, "not a bcrypt hash"},
		{"nil key", func(c *Config) { c.AuthorizedKeys = []gossh.PublicKey{nil} }, "nil authorized key"},
		{"hostname with a space", func(c *Config) { c.Hostname = "sw 1" }, "hostname"},
		{"flash dir is a file", func(c *Config) { c.FlashDir = openKey }, "not a directory"},
		{"negative sessions", func(c *Config) { c.MaxSessions = -1 }, "MaxSessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.mod(&cfg)
			s, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: %v, want %q", err, tt.wantErr)
			}
			if s != nil {
				t.Error("a server came back with the error")
			}
		})
	}
	if _, err := New(Config{HostKeyPath: filepath.Join(t.TempDir(), "k"), Shell: &fakeShell{}}); !errors.Is(err, ErrNoLogin) {
		t.Errorf("not ErrNoLogin: %v", err)
	}
	s, err := New(good())
	if err != nil {
		t.Fatal(err)
	}
	if s.Flash() != nil {
		t.Error("flash folder without FlashDir")
	}
	if _, ok := s.srv.SubsystemHandlers["sftp"]; ok {
		t.Error("SFTP offered without a flash folder")
	}
}

// The host key file is made once, in OpenSSH format, and reused.
func TestHostKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "ssh_host_ed25519_key")
	s1, created, err := loadOrCreateHostKey(path)
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	s2, created, err := loadOrCreateHostKey(path)
	if err != nil || created {
		t.Fatalf("second: %v %v", created, err)
	}
	if string(s1.PublicKey().Marshal()) != string(s2.PublicKey().Marshal()) {
		t.Error("key changed")
	}
	if s1.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Errorf("type %s", s1.PublicKey().Type())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Errorf("not OpenSSH format: %.40q", data)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	want := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s1.PublicKey()))) + " licensed ssh host key"
	if r := run(t, "ssh-keygen", []string{"-y", "-f", path}, nil, nil, false); r.Code != 0 || strings.TrimSpace(r.Stdout) != want {
		t.Errorf("ssh-keygen -y: %+v", r)
	}
}
