// Package snmp is the SNMP surface of the license agent: a command
// responder for SNMPv1, SNMPv2c and SNMPv3 (User-based Security Model with
// SHA and SHA-2 authentication and AES privacy), and a notification
// originator that turns agent events into traps and informs.
//
// It serves the system group and the snmp group of SNMPv2-MIB, the chassis
// rows of ENTITY-MIB entPhysicalTable, the information tables and
// notification enables of CISCO-LICENSE-MGMT-MIB, CISCO-IMAGE-LICENSE-MGMT-MIB,
// and the snmpEngine, snmpMPDStats and usmStats objects. Every value comes
// from one agent.Status snapshot, cached for Config.CacheTTL so that a walk
// sees one consistent state.
//
// gosnmp has no agent. This package uses its codec to decode requests and
// encode responses, and adds what an agent needs around it: the SNMPv3
// header is read before decoding to check the engine ID (gosnmp would
// re-localize keys to any engine ID a message names) and the user; the
// digest is verified through UnmarshalTrap (SnmpDecodePacket does not
// verify it); the time window, Reports and usmStats counters, a fresh
// privacy salt per response, GETBULK arithmetic, response size limits and
// the SNMPv1 error mapping are done here.
//
// The caller owns persistence: Config.EngineBoots must grow at every
// start. See docs/SNMP.md for the objects served, the notifications, the
// configuration and the known deviations.
package snmp
