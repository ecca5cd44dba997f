package sshd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"
)

// Privilege bounds, as on IOS user accounts (0 is not offered: it cannot run
// show commands).
const (
	MinPrivilege = 1
	MaxPrivilege = 15
)

// MaxBcryptCost is the highest bcrypt cost accepted in a users file. Every
// login attempt for the user pays it, so a higher cost would let anyone who
// knows a user name keep the device's CPU busy.
const MaxBcryptCost = 14

// maxConfigFile bounds the users and authorized keys files.
const maxConfigFile = 1 << 20

// Errors returned by the loaders and New.
var (
	ErrUsersFile      = errors.New("invalid users file")
	ErrAuthorizedKeys = errors.New("invalid authorized keys file")
	ErrNoLogin        = errors.New("SSH server not started: no authorized keys or users configured")
)

// User is a local account.
type User struct {
	Name      string
	Privilege int
	Keys      []gossh.PublicKey
	// PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$); empty: no password
	// login.
	PasswordHash string
}

// HashPassword returns a bcrypt hash of password for a users file.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// LoadUsers reads a users file. The format is line based, like IOS
// configuration:
//
//	! comment (lines starting with ! or #; blank lines are ignored)
//	username admin privilege 15 secret $2a$10$…
//	username oper privilege 1 key ssh-ed25519 AAAAC3… oper@laptop
//	username oper key ssh-ed25519 AAAAC3… oper@desktop
//
// Keywords are case-insensitive. A user may appear on several lines: keys
// add up, privilege (1–15, default 1) must agree, and there is at most one
// secret. `key` takes the rest of the line in authorized_keys form without
// options. Every user needs a secret or a key.
func LoadUsers(path string) ([]User, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsersFile, err)
	}
	users, err := ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return users, nil
}

// ParseUsers parses the contents of a users file (see LoadUsers).
func ParseUsers(data []byte) ([]User, error) {
	var users []User
	index := map[string]int{}
	privSet := map[string]bool{}
	err := eachLine(data, func(n int, line string) error {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: line %d: %s", ErrUsersFile, n, fmt.Sprintf(format, args...))
		}
		rest := line
		var word string
		word, rest = nextWord(rest)
		if !strings.EqualFold(word, "username") {
			return fail("expected `username NAME ...`, found %q", word)
		}
		name, rest := nextWord(rest)
		if name == "" {
			return fail("missing user name after `username`")
		}
		if err := checkUserName(name); err != nil {
			return fail("%v", err)
		}
		i, ok := index[name]
		if !ok {
			i = len(users)
			index[name] = i
			users = append(users, User{Name: name, Privilege: MinPrivilege})
		}
		u := &users[i]
		for rest != "" {
			word, rest = nextWord(rest)
			switch strings.ToLower(word) {
			case "privilege":
				var v string
				v, rest = nextWord(rest)
				p, err := strconv.Atoi(v)
				if err != nil || p < MinPrivilege || p > MaxPrivilege {
					return fail("privilege must be a number from %d to %d, found %q", MinPrivilege, MaxPrivilege, v)
				}
				if privSet[name] && u.Privilege != p {
					return fail("user %s: privilege %d conflicts with privilege %d given earlier", name, p, u.Privilege)
				}
				u.Privilege, privSet[name] = p, true
			case "secret":
				var h string
				h, rest = nextWord(rest)
				if err := checkBcrypt(h); err != nil {
					return fail("user %s: %v", name, err)
				}
				if u.PasswordHash != "" {
					return fail("user %s: secret given twice", name)
				}
				u.PasswordHash = h
			case "key":
				if rest == "" {
					return fail("user %s: `key` needs a public key (ssh-ed25519 AAAA...)", name)
				}
				k, err := parseKeyLine(rest)
				if err != nil {
					return fail("user %s: %v", name, err)
				}
				for _, old := range u.Keys {
					if bytes.Equal(old.Marshal(), k.Marshal()) {
						return fail("user %s: key %s listed twice", name, gossh.FingerprintSHA256(k))
					}
				}
				u.Keys = append(u.Keys, k)
				rest = ""
			case "password":
				return fail("user %s: plain-text passwords are not accepted; use `secret` with a bcrypt hash", name)
			default:
				return fail("user %s: unknown keyword %q (want privilege, secret or key)", name, word)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.PasswordHash == "" && len(u.Keys) == 0 {
			return nil, fmt.Errorf("%w: user %s has neither a secret nor a key and could never log in", ErrUsersFile, u.Name)
		}
	}
	return users, nil
}

// LoadAuthorizedKeys reads an OpenSSH authorized_keys file. Keys from it may
// log in as any user name with privilege 15. Key options (from=, command=,
// restrict, ...) are refused rather than ignored, since this server would not
// enforce them.
func LoadAuthorizedKeys(path string) ([]gossh.PublicKey, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuthorizedKeys, err)
	}
	keys, err := ParseAuthorizedKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// ParseAuthorizedKeys parses authorized_keys contents (see
// LoadAuthorizedKeys). Duplicate keys are listed once.
func ParseAuthorizedKeys(data []byte) ([]gossh.PublicKey, error) {
	var keys []gossh.PublicKey
	seen := map[string]bool{}
	err := eachLine(data, func(n int, line string) error {
		k, err := parseKeyLine(line)
		if err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrAuthorizedKeys, n, err)
		}
		if m := string(k.Marshal()); !seen[m] {
			seen[m] = true
			keys = append(keys, k)
		}
		return nil
	})
	return keys, err
}

func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigFile)
	}
	return data, nil
}

// eachLine calls fn with every line that is not blank or a comment; n is
// 1-based.
func eachLine(data []byte, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxConfigFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '!' || line[0] == '#' {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

func nextWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

func checkUserName(name string) error {
	if len(name) > 64 {
		return fmt.Errorf("user name %.20q... is longer than 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '@' || r == '-' && i > 0
		if !ok {
			return fmt.Errorf("user name %q: only letters, digits, '.', '_', '@' and '-' (not first) are allowed", name)
		}
	}
	return nil
}

func checkBcrypt(h string) error {
	if h == "" {
		return errors.New("`secret` needs a bcrypt hash")
	}
	if _, err := strconv.Atoi(h); err == nil {
		return fmt.Errorf("secret type %s is not supported; give a bcrypt hash ($2a$, $2b$ or $2y$) without a type number", h)
	}
	if !strings.HasPrefix(h, "$2a$") && !strings.HasPrefix(h, "$2b$") && !strings.HasPrefix(h, "$2y$") {
		return fmt.Errorf("secret %.8q... is not a bcrypt hash ($2a$, $2b$ or $2y$)", h)
	}
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil {
		return fmt.Errorf("secret is not a valid bcrypt hash: %v", err)
	}
	if cost > MaxBcryptCost {
		return fmt.Errorf("bcrypt cost %d is above %d and would make every login attempt too slow", cost, MaxBcryptCost)
	}
	if len(h) != 60 {
		return fmt.Errorf("secret is not a valid bcrypt hash: %d characters instead of 60", len(h))
	}
	return nil
}

// parseKeyLine parses one authorized_keys line and refuses options.
func parseKeyLine(line string) (gossh.PublicKey, error) {
	k, _, options, rest, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("cannot parse public key %.30q...: %v", line, err)
	}
	if len(options) > 0 {
		return nil, fmt.Errorf("key options (%s) are not supported", strings.Join(options, ","))
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("unexpected text after the key")
	}
	if _, ok := k.(*gossh.Certificate); ok {
		return nil, errors.New("certificates are not supported; list the plain public key")
	}
	return k, nil
}
