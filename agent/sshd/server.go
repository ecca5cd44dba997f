package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gliderlabs/ssh"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = ssh.ErrServerClosed

// dummyHash is compared against when the user is unknown or has no
// password, so a failed login takes as long whether or not the user exists.
// Nobody knows its password, and the result is discarded anyway.
const dummyHash = "$2a$10$jdgXurYd0Xi8nBHvDeUPyeNGs3TovuCtMYCKV62oPiWfv6YAbwWia"

// maxPasswordLen bounds what is handed to bcrypt (which uses 72 bytes).
const maxPasswordLen = 1024

// Server is the SSH server. Build it with New, run it with Serve or
// ListenAndServe, stop it with Shutdown.
type Server struct {
	cfg     Config
	srv     *ssh.Server
	signer  gossh.Signer
	flash   *Flash
	lim     *limiter
	created bool

	authKeys map[string]bool            // marshalled keys from AuthorizedKeys
	users    map[string]*User           // by name
	userKeys map[string]map[string]bool // user name -> marshalled keys

	sessions atomic.Int64
}

// New checks cfg, loads or makes the host key and prepares the flash
// folder. It fails with ErrNoLogin when no key and no user could ever log in.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Shell == nil {
		return nil, errors.New("sshd: no Shell configured")
	}
	if strings.ContainsFunc(cfg.Hostname, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("sshd: hostname %q contains spaces or control characters", cfg.Hostname)
	}
	if cfg.MaxSessions < 0 {
		return nil, fmt.Errorf("sshd: MaxSessions %d is negative", cfg.MaxSessions)
	}
	if cfg.LoginRate.Attempts >= 0 && (cfg.LoginRate.Within < 0 || cfg.LoginRate.BlockFor < 0) {
		return nil, fmt.Errorf("sshd: login rate window %v and block time %v must not be negative", cfg.LoginRate.Within, cfg.LoginRate.BlockFor)
	}
	s := &Server{
		cfg:      cfg,
		lim:      newLimiter(cfg.LoginRate),
		authKeys: map[string]bool{},
		users:    map[string]*User{},
		userKeys: map[string]map[string]bool{},
	}
	for _, k := range cfg.AuthorizedKeys {
		if k == nil {
			return nil, errors.New("sshd: nil authorized key")
		}
		s.authKeys[string(k.Marshal())] = true
	}
	canLogin := len(s.authKeys) > 0
	for i := range cfg.Users {
		u := cfg.Users[i]
		if err := checkUserName(u.Name); err != nil {
			return nil, fmt.Errorf("sshd: %w", err)
		}
		if _, dup := s.users[u.Name]; dup {
			return nil, fmt.Errorf("sshd: user %s listed twice", u.Name)
		}
		if u.Privilege < MinPrivilege || u.Privilege > MaxPrivilege {
			return nil, fmt.Errorf("sshd: user %s: privilege %d is not from %d to %d", u.Name, u.Privilege, MinPrivilege, MaxPrivilege)
		}
		if u.PasswordHash != "" {
			if err := checkBcrypt(u.PasswordHash); err != nil {
				return nil, fmt.Errorf("sshd: user %s: %w", u.Name, err)
			}
		}
		keys := map[string]bool{}
		for _, k := range u.Keys {
			if k == nil {
				return nil, fmt.Errorf("sshd: user %s: nil key", u.Name)
			}
			keys[string(k.Marshal())] = true
		}
		s.users[u.Name] = &u
		s.userKeys[u.Name] = keys
		if u.PasswordHash != "" || len(keys) > 0 {
			canLogin = true
		}
	}
	if !canLogin {
		return nil, ErrNoLogin
	}
	signer, created, err := loadOrCreateHostKey(cfg.HostKeyPath)
	if err != nil {
		return nil, fmt.Errorf("sshd: %w", err)
	}
	s.signer, s.created = signer, created
	if created {
		cfg.Logf("ssh: made host key %s (%s)", cfg.HostKeyPath, gossh.FingerprintSHA256(signer.PublicKey()))
	}
	if cfg.FlashDir != "" {
		if s.flash, err = NewFlash(cfg.FlashDir, cfg.FlashMaxFile, cfg.FlashMaxTotal); err != nil {
			return nil, fmt.Errorf("sshd: %w", err)
		}
	}
	banner := cfg.Banner
	if banner != "" && !strings.HasSuffix(banner, "\n") {
		banner += "\n"
	}
	s.srv = &ssh.Server{
		Addr:                 cfg.Listen,
		Version:              "licensed",
		Banner:               banner,
		Handler:              s.handleSession,
		PasswordHandler:      s.passwordHandler,
		PublicKeyHandler:     s.publicKeyHandler,
		ConnCallback:         s.connCallback,
		ServerConfigCallback: s.serverConfig,
		ChannelHandlers:      map[string]ssh.ChannelHandler{"session": ssh.DefaultSessionHandler},
		RequestHandlers:      map[string]ssh.RequestHandler{},
		SubsystemHandlers:    map[string]ssh.SubsystemHandler{},
	}
	if cfg.IdleTimeout > 0 {
		s.srv.IdleTimeout = cfg.IdleTimeout
	}
	if s.flash != nil {
		s.srv.SubsystemHandlers["sftp"] = s.handleSFTP
	}
	s.srv.AddHostKey(signer)
	return s, nil
}

// HostKey is the server's public host key.
func (s *Server) HostKey() gossh.PublicKey { return s.signer.PublicKey() }

// HostKeyCreated reports whether New made the host key (first start).
func (s *Server) HostKeyCreated() bool { return s.created }

// Flash is the flash: folder, nil when none is configured.
func (s *Server) Flash() *Flash { return s.flash }

// Serve accepts connections on ln until Shutdown or Close. It returns
// ErrServerClosed after those.
func (s *Server) Serve(ln net.Listener) error {
	return s.srv.Serve(ln)
}

// ListenAndServe listens on Config.Listen and serves.
func (s *Server) ListenAndServe() error {
	if s.cfg.Listen == "" {
		return errors.New("sshd: no listen address configured")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("sshd: %w", err)
	}
	return s.Serve(ln)
}

// Shutdown stops accepting connections and waits for open ones to end. When
// ctx ends first, the remaining connections are closed and ctx's error is
// returned.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil && ctx.Err() != nil {
		s.srv.Close()
	}
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error { return s.srv.Close() }

// Sessions is how many sessions are open.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// --- authentication ---

// identity is what authentication proved.
type identity struct {
	user   string
	priv   int
	method string // "publickey" or "password"
	key    string // SHA256 fingerprint for publickey
}

// connState is one connection's authentication state.
type connState struct {
	remote string // "ip:port"
	source string // rate-limit key

	mu      sync.Mutex
	pre     gossh.ServerPreAuthConn
	id      *identity
	authed  bool   // the SSH handshake accepted the client
	tried   bool   // the client attempted a password or a key
	counted bool   // a failure or a refusal is already on record
	noticed bool   // the blocked notice was sent
	user    string // the user name of the latest attempt
}

type connStateKey struct{}

func stateOf(ctx ssh.Context) *connState {
	st, _ := ctx.Value(connStateKey{}).(*connState)
	return st
}

// attempt notes an authentication attempt and returns the user name the
// client is trying now (ctx.User() is the first attempt's).
func (st *connState) attempt() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.tried = true
	if st.pre != nil {
		st.user = st.pre.User()
	}
	return st.user
}

func (st *connState) identity() (*identity, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.id, st.authed
}

// trackedConn reports when gliderlabs closes the connection.
type trackedConn struct {
	net.Conn
	once    sync.Once
	onClose func()
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.onClose)
	return err
}

func (s *Server) connCallback(ctx ssh.Context, conn net.Conn) net.Conn {
	st := &connState{remote: conn.RemoteAddr().String(), source: sourceKey(conn.RemoteAddr())}
	ctx.SetValue(connStateKey{}, st)
	var grace *time.Timer
	if s.cfg.LoginGraceTime > 0 {
		grace = time.AfterFunc(s.cfg.LoginGraceTime, func() {
			if _, ok := st.identity(); !ok {
				s.cfg.Logf("ssh: %s: no login within %v, closing", st.remote, s.cfg.LoginGraceTime)
				conn.Close()
			}
		})
	}
	return &trackedConn{Conn: conn, onClose: func() {
		if grace != nil {
			grace.Stop()
		}
		s.connClosed(st)
	}}
}

// connClosed counts a connection that tried to log in, never succeeded and
// had no failure counted yet (its keys were all refused) as one failure.
func (s *Server) connClosed(st *connState) {
	st.mu.Lock()
	fail := st.tried && !st.authed && !st.counted
	st.counted = st.counted || fail
	user := st.user
	st.mu.Unlock()
	if !fail {
		return
	}
	s.event(user, st.remote, "login failed (publickey)")
	if s.lim.fail(st.source, s.cfg.Clock()) {
		s.cfg.Logf("ssh: %s: too many failed logins, refusing it for %v", st.source, s.cfg.LoginRate.BlockFor)
	}
}

func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	st := stateOf(ctx)
	return &gossh.ServerConfig{
		MaxAuthTries: s.cfg.MaxAuthTries,
		PreAuthConnCallback: func(c gossh.ServerPreAuthConn) {
			st.mu.Lock()
			st.pre = c
			st.mu.Unlock()
		},
		// Called only after the client proved it holds the key, with the
		// user name of this attempt: the one place a key login is decided.
		VerifiedPublicKeyCallback: func(conn gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			if s.refuseBlocked(st, conn.User()) {
				return nil, errors.New("source blocked")
			}
			id := s.keyIdentity(conn.User(), key)
			if id == nil {
				return nil, errors.New("key not authorized for this user")
			}
			st.mu.Lock()
			st.id = id
			st.mu.Unlock()
			return perms, nil
		},
		AuthLogCallback: func(conn gossh.ConnMetadata, method string, err error) {
			if err != nil {
				return
			}
			st.mu.Lock()
			st.authed = true
			id := st.id
			st.mu.Unlock()
			if id == nil || id.user != conn.User() {
				// Cannot happen with both callbacks setting id; the
				// session handler refuses such a connection anyway.
				s.cfg.Logf("ssh: %s: authenticated by %s without an identity", st.remote, method)
				return
			}
			how := id.method
			if id.key != "" {
				how += " " + id.key
			}
			s.event(id.user, st.remote, fmt.Sprintf("login ok (%s, privilege %d)", how, id.priv))
		},
	}
}

// event reports a login or a change to flash: to the audit log and the log.
func (s *Server) event(user, remote, event string) {
	s.cfg.Audit(user, remote, event)
	s.cfg.Logf("ssh: %s@%s: %s", user, remote, event)
}

// keyIdentity is who key may log in as user, or nil. Keys from the
// authorized keys file give privilege 15 for any name; a user's own keys
// give that user's privilege; the higher wins.
func (s *Server) keyIdentity(user string, key gossh.PublicKey) *identity {
	m := string(key.Marshal())
	priv := 0
	if s.authKeys[m] {
		priv = MaxPrivilege
	}
	if u := s.users[user]; u != nil && s.userKeys[user][m] {
		priv = max(priv, u.Privilege)
	}
	if priv == 0 {
		return nil
	}
	return &identity{user: user, priv: priv, method: "publickey", key: gossh.FingerprintSHA256(key)}
}

// refuseBlocked reports whether the connection's source is blocked; the
// first refusal on a connection tells the client why.
func (s *Server) refuseBlocked(st *connState, user string) bool {
	now := s.cfg.Clock()
	blocked, until := s.lim.blocked(st.source, now)
	if !blocked {
		return false
	}
	st.mu.Lock()
	first := !st.noticed
	st.noticed, st.counted = true, true
	pre := st.pre
	st.mu.Unlock()
	if first {
		wait := until.Sub(now).Round(time.Second)
		if pre != nil {
			_ = pre.SendAuthBanner(fmt.Sprintf("%% Logins from %s are blocked after too many failures; try again in %v.\n", st.source, wait))
		}
		s.event(user, st.remote, "login refused (source blocked)")
	}
	return true
}

func (s *Server) publicKeyHandler(ctx ssh.Context, key ssh.PublicKey) bool {
	st := stateOf(ctx)
	if st == nil {
		return false
	}
	user := st.attempt()
	if s.refuseBlocked(st, user) {
		return false
	}
	// This only answers the client's question whether the key would do;
	// the login is decided in VerifiedPublicKeyCallback.
	return s.keyIdentity(user, key) != nil
}

func (s *Server) passwordHandler(ctx ssh.Context, password string) bool {
	st := stateOf(ctx)
	if st == nil {
		return false
	}
	user := st.attempt()
	if s.refuseBlocked(st, user) {
		return false
	}
	u := s.users[user]
	hash := dummyHash
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	pw := password
	if len(pw) > maxPasswordLen {
		pw = pw[:maxPasswordLen]
	}
	match := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
	if !match || hash == dummyHash || password == "" || len(password) > maxPasswordLen {
		st.mu.Lock()
		st.counted = true
		st.mu.Unlock()
		s.event(user, st.remote, "login failed (password)")
		if s.lim.fail(st.source, s.cfg.Clock()) {
			s.cfg.Logf("ssh: %s: too many failed logins, refusing it for %v", st.source, s.cfg.LoginRate.BlockFor)
		}
		return false
	}
	st.mu.Lock()
	st.id = &identity{user: user, priv: u.Privilege, method: "password"}
	st.mu.Unlock()
	// A key the client offered but could not sign with must not look like
	// the way this session authenticated.
	ctx.SetValue(ssh.ContextKeyPublicKey, nil)
	return true
}

// sessionIdentity is who runs sess, or an error when the session must not
// run.
func (s *Server) sessionIdentity(sess ssh.Session) (*identity, error) {
	st := stateOf(sess.Context())
	if st == nil {
		return nil, errors.New("no connection state")
	}
	id, authed := st.identity()
	if id == nil || !authed {
		return nil, errors.New("not authenticated")
	}
	if id.user != sess.User() || sess.Context().User() != sess.User() {
		return nil, fmt.Errorf("user name changed during authentication (%q, then %q)", sess.Context().User(), sess.User())
	}
	return id, nil
}

// --- sessions ---

func (s *Server) acquireSession() (int64, bool) {
	n := s.sessions.Add(1)
	if n > int64(s.cfg.MaxSessions) {
		s.sessions.Add(-1)
		return n - 1, false
	}
	return n, true
}

// startSession checks who runs sess and takes a session slot. On failure
// it has told the client and ended the session.
func (s *Server) startSession(sess ssh.Session) (*identity, bool) {
	id, err := s.sessionIdentity(sess)
	if err != nil {
		s.cfg.Logf("ssh: %s: session refused: %v", sess.RemoteAddr(), err)
		fmt.Fprintf(sess.Stderr(), "%% Session refused: %v\n", err)
		_ = sess.Exit(1)
		return nil, false
	}
	if open, ok := s.acquireSession(); !ok {
		s.cfg.Logf("ssh: %s@%s: session refused, %d of %d sessions open", id.user, sess.RemoteAddr(), open, s.cfg.MaxSessions)
		fmt.Fprintf(sess.Stderr(), "%% Too many sessions: %d of %d are open. Try again later.\n", open, s.cfg.MaxSessions)
		_ = sess.Exit(1)
		return nil, false
	}
	return id, true
}

// recoverSession keeps a bug in one session from ending the agent.
func (s *Server) recoverSession(sess ssh.Session) {
	if p := recover(); p != nil {
		s.cfg.Logf("ssh: %s: session panicked: %v\n%s", sess.RemoteAddr(), p, debug.Stack())
		fmt.Fprintln(sess.Stderr(), "% Internal error; the session is closed.")
		_ = sess.Exit(1)
	}
}

func (s *Server) handleSession(sess ssh.Session) {
	defer s.recoverSession(sess)
	id, ok := s.startSession(sess)
	if !ok {
		return
	}
	defer s.sessions.Add(-1)
	line := sess.RawCommand()
	if strings.TrimSpace(line) == "" {
		s.interactive(sess, id)
		_ = sess.Exit(0)
		return
	}
	_ = sess.Exit(s.exec(sess, id, strings.TrimSpace(line)))
}

// exec runs one command line and returns its exit status.
func (s *Server) exec(sess ssh.Session, id *identity, line string) int {
	if strings.HasPrefix(line, "scp ") {
		fmt.Fprintln(sess.Stderr(), "% The legacy scp protocol (scp -O) is not supported; use scp without -O, or sftp.")
		return 1
	}
	return s.runLine(sess.Context(), Session{
		User:      id.user,
		Remote:    sess.RemoteAddr().String(),
		Privilege: id.priv,
		In:        sess,
		Out:       sess,
		Err:       sess.Stderr(),
		Files:     s.flash,
	}, line)
}

// runLine runs one line with the Shell; a panic in a command ends that
// command, not the agent.
func (s *Server) runLine(ctx context.Context, sess Session, line string) (code int) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logf("ssh: %s@%s: command %q panicked: %v\n%s", sess.User, sess.Remote, line, p, debug.Stack())
			fmt.Fprintln(sess.Err, "% Internal error; the command was not completed.")
			code = 1
		}
	}()
	return s.cfg.Shell.RunLine(ctx, sess, line)
}

// complete asks the Shell for candidates; a panic becomes an error.
func (s *Server) complete(line string, priv int) (c []Candidate, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logf("ssh: completing %q panicked: %v\n%s", line, p, debug.Stack())
			c, err = nil, errors.New("% Internal error")
		}
	}()
	return s.cfg.Shell.Complete(line, priv)
}

func (s *Server) handleSFTP(sess ssh.Session) {
	defer s.recoverSession(sess)
	id, ok := s.startSession(sess)
	if !ok {
		return
	}
	defer s.sessions.Add(-1)
	remote := sess.RemoteAddr().String()
	fsys := &flashFS{
		f:        s.flash,
		readOnly: id.priv < MaxPrivilege,
		audit:    func(event string) { s.event(id.user, remote, event) },
		explain:  sess.Stderr(),
	}
	rs := sftp.NewRequestServer(sess, newFlashHandlers(fsys))
	// Not rs.Close(): it would close the channel before the exit status is
	// sent, and clients would report a failure.
	if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
		s.cfg.Logf("ssh: %s@%s: sftp: %v", id.user, remote, err)
	}
}
