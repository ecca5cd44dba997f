// Package callhome is the device side of call-home: the client that a
// licensed agent uses to reach the licensing portal over HTTPS.
//
// It redeems PAKs (showing their SKUs first when the operator has not
// confirmed), fetches again every license the portal holds for the device
// (resend), and moves the device's licenses to another UDI (revoke: a
// permission ticket from the portal, the device's signed rehost ticket
// back). Every request is signed with the device key and carries the
// device credential, so the portal learns the key at first contact and
// never serves one device's licenses to another.
//
// Operations that change something at the portal are kept in the agent's
// store until they are done: a portal that is down, slow or answering
// nonsense leaves a pending operation that Run retries with bounded
// exponential backoff and jitter, across restarts and reloads. Each
// carries an idempotency key, so a retry never redeems a PAK twice, and
// the licenses it brings are installed through the agent, which verifies
// their signatures like those of any license file.
//
// Importers write:
//
//	callhome "github.com/licensed-dev/licensed/call-home"
//
// The wire protocol is in package protocol and docs/CALLHOME.md.
package callhome
