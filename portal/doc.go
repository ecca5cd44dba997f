// Package portal is the licensing portal: the catalog of SKUs, PAKs and
// their partial fulfilment, the licenses issued to each UDI, rehost by
// permission and rehost tickets, RMA, and the audit log, with the
// call-home HTTPS API devices use (Handler) and the administrative
// operations licportal runs (Admin).
//
// State lives behind Store, a small transactional key-value interface:
// OpenBolt gives the embedded bbolt store a single portal uses; a shared
// SQL database can implement the same five operations for a portal that
// outgrows one machine. Writes from concurrent requests are grouped into
// one durable commit (group commit), so the commit rate, not the fsync
// latency, bounds throughput.
//
// Every change appends an audit record in the transaction that makes it.
// Devices are known by their UDIs and device keys: the first signed
// request of a UDI binds its key, and a request signed by another key for
// that UDI is refused until an administrator resets the binding.
package portal
