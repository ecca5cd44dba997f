package sshd

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"
)

const (
	edKey1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMZxGuwhSbN3dog0+u0vJETaq8qNF6FQHsuBibtNIDFm"
	edKey2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILGdoRpbXYX6JRo6RLnRIsM2Av2II9edWmnDvjU5ISbe"
	hash1  = "$2a$10$sUHZ1nynYrUUfA1G9TDiguYm6CdeSjPPr94oHCYn8iJ/f7exgTTou" // admin-example
)

func TestLoadUsersFixture(t *testing.T) {
	users, err := LoadUsers(filepath.Join(goldenDir, "users"))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		name   string
		priv   int
		keys   int
		hashed bool
	}
	want := []summary{{"admin", 15, 0, true}, {"oper", 1, 2, true}, {"nms", 1, 1, false}}
	if len(users) != len(want) {
		t.Fatalf("got %d users", len(users))
	}
	for i, u := range users {
		got := summary{u.Name, u.Privilege, len(u.Keys), u.PasswordHash != ""}
		if got != want[i] {
			t.Errorf("user %d: %+v, want %+v", i, got, want[i])
		}
	}
	if err := bcrypt.CompareHashAndPassword([]byte(users[0].PasswordHash), []byte("admin-example")); err != nil {
		t.Errorf("admin's hash: %v", err)
	}
	if users[2].Keys[0].Type() != "ssh-rsa" {
		t.Errorf("nms key type %s", users[2].Keys[0].Type())
	}
}

func TestParseUsers(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // "name/priv/keys/hash;..." when valid
		wantErr string
	}{
		{"empty", "", "", ""},
		{"comments only", "! a\n# b\n\n   \n", "", ""},
		{"secret", "username a privilege 15 secret " + hash1, "a/15/0/true", ""},
		{"default privilege", "username a secret " + hash1, "a/1/0/true", ""},
		{"key with comment", "username a key " + edKey1 + " me@host", "a/1/1/false", ""},
		{"lines add up", "username a privilege 15\nusername a key " + edKey1 + "\nusername a key " + edKey2 + "\nusername a secret " + hash1, "a/15/2/true", ""},
		{"order kept", "username b key " + edKey1 + "\nusername a key " + edKey1, "b/1/1/false;a/1/1/false", ""},
		{"tabs", "username\ta\tprivilege\t15\tsecret\t" + hash1, "a/15/0/true", ""},
		{"$2b$ and $2y$", "username a secret " + "$2b$" + hash1[4:] + "\nusername b secret $2y$" + hash1[4:], "a/1/0/true;b/1/0/true", ""},
		{"not username", "user a secret " + hash1, "", `line 1: expected `},
		{"no name", "username", "", "missing user name"},
		{"bad name", "username a/b secret " + hash1, "", "only letters"},
		{"name starts with dash", "username -a secret " + hash1, "", "only letters"},
		{"privilege out of range", "username a privilege 16 secret " + hash1, "", "privilege must be a number from 1 to 15"},
		{"privilege zero", "username a privilege 0 secret " + hash1, "", "privilege must be"},
		{"privilege not a number", "username a privilege x", "", `found "x"`},
		{"privilege conflict", "username a privilege 1 secret " + hash1 + "\nusername a privilege 15", "", "line 2: user a: privilege 15 conflicts"},
		{"same privilege twice", "username a privilege 15 secret " + hash1 + "\nusername a privilege 15", "a/15/0/true", ""},
		{"secret twice", "username a secret " + hash1 + "\nusername a secret " + hash1, "", "secret given twice"},
		{"secret missing", "username a secret", "", "needs a bcrypt hash"},
		{"secret type number", "username a secret 5 $1$abc", "", "secret type 5 is not supported"},
		{"secret not bcrypt", "username a secret $6$salt$hash", "", "not a bcrypt hash"},
		{"secret truncated", "username a secret " + hash1[:40], "", "not a valid bcrypt hash"},
		{"bcrypt cost too high", "username a secret $2a$15$" + hash1[7:], "", "bcrypt cost 15 is above 14"},
		{"plain password", "username a password hunter2", "", "plain-text passwords are not accepted"},
		{"unknown keyword", "username a role admin", "", `unknown keyword "role"`},
		{"key missing", "username a key", "", "needs a public key"},
		{"key garbage", "username a key ssh-ed25519 AAAAnot-base64", "", "cannot parse public key"},
		{"key options", `username a key from="10.0.0.1" ` + edKey1, "", `key options (from="10.0.0.1") are not supported`},
		{"key twice", "username a key " + edKey1 + "\nusername a key " + edKey1 + " again", "", "listed twice"},
		{"no way to log in", "username a privilege 15", "", "neither a secret nor a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := ParseUsers([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrUsersFile) {
					t.Fatalf("error %v, want %q wrapping ErrUsersFile", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range users {
				got = append(got, fmt.Sprintf("%s/%d/%d/%v", u.Name, u.Privilege, len(u.Keys), u.PasswordHash != ""))
			}
			if s := strings.Join(got, ";"); s != tt.want {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
}

func TestParseAuthorizedKeys(t *testing.T) {
	keys, err := LoadAuthorizedKeys(filepath.Join(goldenDir, "authorized_keys"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("got %d keys, want 2 (duplicates merged)", len(keys))
	}
	tests := []struct {
		name, in, wantErr string
	}{
		{"options refused", `from="10.0.0.0/8" ` + edKey1, "key options (from=\"10.0.0.0/8\") are not supported"},
		{"restrict refused", "restrict " + edKey1, "key options (restrict) are not supported"},
		{"garbage", "hello world", "line 1: cannot parse public key"},
		{"garbage on line 3", edKey1 + "\n\nnope", "line 3:"},
		{"certificate", "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAA", "cannot parse public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAuthorizedKeys([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrAuthorizedKeys) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := LoadAuthorizedKeys(filepath.Join(t.TempDir(), "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCertificateRefused(t *testing.T) {
	dir := t.TempDir()
	ca := newClientKey(t, dir, "ca")
	user := newClientKey(t, dir, "user")
	cert := &gossh.Certificate{Key: user.Pub, CertType: gossh.UserCert, ValidPrincipals: []string{"admin"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, ca.Signer); err != nil {
		t.Fatal(err)
	}
	line := string(gossh.MarshalAuthorizedKey(cert))
	if _, err := ParseAuthorizedKeys([]byte(line)); err == nil || !strings.Contains(err.Error(), "certificates are not supported") {
		t.Errorf("certificate: %v", err)
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	users, err := ParseUsers([]byte("username a secret " + h))
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(users[0].PasswordHash), []byte("s3cret")) != nil {
		t.Error("hash does not verify")
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("empty password hashed")
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); err == nil {
		t.Error("73-byte password hashed (bcrypt ignores the rest)")
	}
}

func FuzzParseUsers(f *testing.F) {
	for _, s := range []string{
		"username a privilege 15 secret " + hash1,
		"username oper key " + edKey1 + " c\nusername oper privilege 1",
		"! c\n# c\nusername x password y",
		"username a secret 5 x",
	} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile(filepath.Join(goldenDir, "users")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ParseUsers(data)
		if err != nil {
			if !errors.Is(err, ErrUsersFile) && !strings.Contains(err.Error(), "token too long") {
				t.Fatalf("error without ErrUsersFile: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, u := range users {
			if checkUserName(u.Name) != nil || seen[u.Name] {
				t.Fatalf("bad or repeated name %q", u.Name)
			}
			seen[u.Name] = true
			if u.Privilege < MinPrivilege || u.Privilege > MaxPrivilege {
				t.Fatalf("privilege %d", u.Privilege)
			}
			if u.PasswordHash == "" && len(u.Keys) == 0 {
				t.Fatalf("user %s cannot log in", u.Name)
			}
			if u.PasswordHash != "" && checkBcrypt(u.PasswordHash) != nil {
				t.Fatalf("bad hash accepted: %q", u.PasswordHash)
			}
		}
	})
}

func FuzzParseAuthorizedKeys(f *testing.F) {
	f.Add([]byte(edKey1 + " c\n" + edKey2))
	f.Add([]byte("# c\n\n" + edKey1))
	f.Add([]byte(`command="x" ` + edKey1))
	if data, err := os.ReadFile(filepath.Join(goldenDir, "authorized_keys")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseAuthorizedKeys(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if k == nil {
				t.Fatal("nil key")
			}
			if seen[string(k.Marshal())] {
				t.Fatal("duplicate key")
			}
			seen[string(k.Marshal())] = true
		}
	})
}
