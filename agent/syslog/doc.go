// Package syslog turns agent events into IOS-style syslog messages
// (%FACILITY-SEVERITY-MNEMONIC: text) and ships them to remote syslog hosts
// and a local log.
//
// Format maps each agent.Event to one message of the catalog (Catalog lists
// them; docs/SYSLOG.md documents them and says which texts are the ones
// devices print and which are this project's). A Logger delivers messages to
// any number of targets over UDP or TCP (octet-counted framing, RFC 6587), in
// RFC 3164 form (the default, as devices send) or RFC 5424 form, with a
// severity threshold like `logging trap`.
//
// Every target has its own bounded queue and sender goroutine, so a slow or
// dead receiver never blocks the producer: when a queue is full the message
// is dropped and counted (Stats). TCP connections are re-established with a
// bounded, jittered exponential backoff.
package syslog
