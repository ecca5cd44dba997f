package sshd

import (
	"context"
	"io"
	"log"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Shell runs the device's commands. cmd/licensed adapts the CLI to it; tests
// use a fake.
type Shell interface {
	// RunLine runs one command line and returns its exit status (the CLI's
	// ExitOK, ExitFailed, ExitUsage, ...). It writes output to s.Out and
	// errors to s.Err, and reads s.In only when the command takes input
	// (`license install -`, confirmations). ctx ends when the client goes away.
	RunLine(ctx context.Context, s Session, line string) int
	// Complete returns the candidates for the last, possibly empty, word of
	// line at privilege priv: words that may follow (line ends in a space or is
	// empty) or words that start with the partial last word. Words in angle
	// brackets or in capitals ("<cr>", "<0-512>", "FILE") describe input and
	// are shown by `?` but never inserted by Tab. A non-nil error is shown to
	// the user as is.
	Complete(line string, priv int) ([]Candidate, error)
}

// Candidate is one completion: a keyword and its one-line help.
type Candidate struct {
	Word, Help string
}

// Session is what a command sees of the SSH session that runs it.
type Session struct {
	User   string // the authenticated user name
	Remote string // the client's address, "192.0.2.7:51234"
	// Privilege is 15 for keys from the authorized keys file and the user's
	// privilege for users from the users file.
	Privilege int
	In        io.Reader
	Out, Err  io.Writer
	// Interactive is true in the shell (In reads lines from the terminal with
	// line editing, Out and Err both go to the terminal through the pager) and
	// false for exec (In is the session's stdin, Err its stderr).
	Interactive bool
	// Files is the flash: folder, nil when no FlashDir is configured. Check
	// for nil before storing it in an interface value.
	Files *Flash
}

// LoginRate limits failed logins per source address. A failed login is a
// rejected password, or a connection that tried to authenticate and closed
// without success (a key that was not accepted). Rejected keys within a
// connection that then succeeds do not count: SSH agents often offer several
// keys.
type LoginRate struct {
	// Attempts is how many failed logins a source may make within Within
	// before it is blocked. Default 5; negative disables the limit.
	Attempts int
	// Within is the window in which failures are counted. Default 1 minute.
	Within time.Duration
	// BlockFor is how long a blocked source is refused. Default 2 minutes.
	BlockFor time.Duration
}

// Defaults for Config fields left zero.
const (
	DefaultHostname       = "licensed"
	DefaultFlashMaxFile   = 256 << 10
	DefaultFlashMaxTotal  = 16 << 20
	DefaultIdleTimeout    = 10 * time.Minute
	DefaultLoginGraceTime = 2 * time.Minute
	DefaultMaxSessions    = 16
	DefaultLoginAttempts  = 5
	DefaultLoginWithin    = time.Minute
	DefaultLoginBlockFor  = 2 * time.Minute
	DefaultMaxAuthTries   = 6
)

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Listen is the address ListenAndServe listens on ("127.0.0.1:2222",
	// ":22"). Serve ignores it.
	Listen string
	// HostKeyPath is the server's Ed25519 host key in OpenSSH format. It is
	// made at the first start (mode 0600) and reused afterwards, so clients
	// see the same key after every restart and reload. A file readable by
	// group or others is refused. Required.
	HostKeyPath string
	// AuthorizedKeys may log in as any user name with privilege 15.
	AuthorizedKeys []gossh.PublicKey
	// Users are the local users (see LoadUsers).
	Users []User
	// Hostname starts the prompt: "sw1#" at privilege 15, "sw1>" at
	// privilege 1. Default DefaultHostname.
	Hostname string
	// Banner is shown to clients before authentication (like IOS `banner
	// login`). Empty: none.
	Banner string
	// Shell runs the commands. Required.
	Shell Shell
	// FlashDir is the real directory behind the flash: folder. It is created
	// (0700) if missing. Empty: no flash folder and no SFTP.
	FlashDir string
	// FlashMaxFile is the largest file the flash folder accepts. Default
	// DefaultFlashMaxFile (256 KiB).
	FlashMaxFile int64
	// FlashMaxTotal is the most the flash folder holds. Default
	// DefaultFlashMaxTotal (16 MiB).
	FlashMaxTotal int64
	// IdleTimeout closes a connection with no traffic for this long. Default
	// DefaultIdleTimeout (10 minutes); negative disables.
	IdleTimeout time.Duration
	// LoginGraceTime closes a connection that has not authenticated within
	// this time. Default DefaultLoginGraceTime (2 minutes); negative
	// disables.
	LoginGraceTime time.Duration
	// MaxSessions is how many sessions (exec, shell, SFTP) may run at once;
	// more get a message on stderr and exit status 1. Default
	// DefaultMaxSessions (16).
	MaxSessions int
	// MaxAuthTries is how many authentication attempts one connection may
	// make. Default DefaultMaxAuthTries (6).
	MaxAuthTries int
	// LoginRate limits failed logins per source address.
	LoginRate LoginRate
	// Clock tells the time for the login rate limit. Default time.Now.
	Clock func() time.Time
	// Logf logs operational messages; called from many goroutines. Default
	// log.Printf.
	Logf func(format string, args ...any)
	// Audit records logins and changes to flash: for the agent's audit log;
	// see the package documentation for the events. It is called from many
	// goroutines at once. Default: none.
	Audit func(user, remote, event string)
}

func (c *Config) setDefaults() {
	if c.Hostname == "" {
		c.Hostname = DefaultHostname
	}
	if c.FlashMaxFile == 0 {
		c.FlashMaxFile = DefaultFlashMaxFile
	}
	if c.FlashMaxTotal == 0 {
		c.FlashMaxTotal = DefaultFlashMaxTotal
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.LoginGraceTime == 0 {
		c.LoginGraceTime = DefaultLoginGraceTime
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxAuthTries == 0 {
		c.MaxAuthTries = DefaultMaxAuthTries
	}
	if c.LoginRate.Attempts == 0 {
		c.LoginRate.Attempts = DefaultLoginAttempts
	}
	if c.LoginRate.Within == 0 {
		c.LoginRate.Within = DefaultLoginWithin
	}
	if c.LoginRate.BlockFor == 0 {
		c.LoginRate.BlockFor = DefaultLoginBlockFor
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logf == nil {
		c.Logf = log.Printf
	}
	if c.Audit == nil {
		c.Audit = func(string, string, string) {}
	}
}
