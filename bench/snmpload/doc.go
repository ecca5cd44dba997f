// Command snmpload signs licenses and generates SNMP GET load for
// bench/snmpd.sh. It has three modes:
//
//	snmpload sign --portal DIR --out DIR [--count 1000] [--chunk 250]
//
// signs --count permanent ipservices licenses for the c3750e test identity
// with DIR/signing.key (made by licportal init) and writes them as
// OUT/licenses-NNN.lic files of at most --chunk licenses each, so that each
// file stays under the daemon's install size limit. The file names go to
// standard output, one a line.
//
//	snmpload get --target 127.0.0.1:PORT --oid OID [--oid OID] [--clients 4] [--duration 5s]
//
// sends SNMPv2c GET requests, all named OIDs in each request, from
// --clients concurrent clients (one UDP socket each, one request in flight
// per client) for --duration, and prints one line:
//
//	requests=N errors=E seconds=S req/s=R
//
// A request counts only if its response carries every OID with a value
// (no noSuchObject, noSuchInstance or error status); anything else is an
// error and makes the exit status 1.
//
//	snmpload ports [--count 2]
//
// prints --count distinct free UDP ports on 127.0.0.1, one a line, for
// the agents under test to listen on.
package main
