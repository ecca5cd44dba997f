// Package sshd serves the device command line over SSH: one command per
// connection (exec, as in `ssh sw1 show license udi`), an interactive shell
// with an IOS-style prompt, and an SFTP subsystem that exposes a small
// virtual flash: folder for license files, credentials and tickets.
//
// The package knows nothing about the commands themselves. A Shell runs one
// command line and offers completions; cmd/licensed adapts the CLI package to
// it. Everything the interactive shell adds on top of the Shell lives here:
// line editing, history, Tab and `?` completion, Ctrl-C, the --More-- pager,
// `terminal length` and exit/quit/logout.
//
// Who may log in:
//
//   - keys from the --ssh-authorized-keys file, as any user name, with
//     privilege 15;
//   - users from a users file (see LoadUsers), by bcrypt password or by their
//     own keys, with the privilege given there.
//
// Privilege 15 may run everything; lower privileges are read-only (the agent
// enforces that; the prompt ends in '#' above privilege 1, '>' otherwise).
//
// Authentication is decided only from what the key exchange proved: a public
// key counts only after the client signed with it (x/crypto's
// VerifiedPublicKeyCallback), a password only when bcrypt accepted it, and the
// user name is the one of the successful attempt. A key that was offered but
// never proven is cleared from the session when a password succeeds.
//
// Limits: failed logins are counted per source address (per /64 for IPv6) and
// a source that fails too often is refused for a while; connections that have
// not authenticated within LoginGraceTime are closed; idle connections are
// closed after IdleTimeout; at most MaxSessions sessions run at once.
//
// Audit events (Config.Audit, also logged) are short texts: "login ok
// (publickey SHA256:…, privilege 15)", "login ok (password, privilege 1)",
// "login failed (password)", "login failed (publickey)", "login refused
// (source blocked)", and for SFTP "sftp put
// flash:NAME (N bytes)", "sftp remove flash:NAME", "sftp rename flash:A to
// flash:B".
package sshd
