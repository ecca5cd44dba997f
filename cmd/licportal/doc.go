// Command licportal is the licensing portal for licensed agents: it holds
// the key that signs licenses and permission tickets, and the TLS material
// agents use to reach it.
//
//	licportal init --state-dir DIR [--listen-name NAME]... [--force]
//	licportal issue --state-dir DIR --udi PID:SN --feature F [flags]
//
// Exit status: 0 success, 1 the command failed, 2 invalid command line.
package main
