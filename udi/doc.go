// Package udi reads the device's identity: its unique device identifier
// (UDI), which is a product ID (PID) and a serial number (SN), shown as
// "PID:SN", one per stack member with the active member marked.
//
// A Reader looks in this order and takes the first source that gives a
// usable PID and SN:
//
//  1. The identity file (Reader.IdentityFile, the daemon's --identity): a
//     JSON description of a simulated device. When it is set nothing else is
//     read, so a simulated device never picks up the host's hardware.
//  2. An ONIE system EEPROM in the TlvInfo format. Linux exposes I2C EEPROMs
//     bound to the at24 driver as <Root>/sys/bus/i2c/devices/<bus>-<addr>/eeprom,
//     and NVMEM devices (at24 on newer kernels, flash partitions) as
//     <Root>/sys/bus/nvmem/devices/<name>/nvmem. Candidates are taken in
//     that order, sorted by name, at most MaxEEPROMCandidates of them; each
//     is opened only if it is a regular file, its first bytes must be the
//     TlvInfo header, and at most MaxEEPROMRead bytes are read from it. The
//     PID is the Part Number TLV, else the Product Name; the SN is the
//     Serial Number TLV.
//  3. DMI (SMBIOS) through sysfs: <Root>/sys/class/dmi/id/product_name is
//     the PID; product_serial, else board_serial, the SN. Firmware
//     placeholders such as "To Be Filled By O.E.M." or "Default string"
//     count as absent. On most systems the serial files are readable by
//     root only.
//
// For the hardware sources the hostname comes from <Root>/etc/hostname
// (comments and blank lines skipped, as hostname(5) allows) and a device is
// a single member. Values read from hardware are trimmed and inner runs of
// blanks become "-" before they are checked, so "PowerEdge R640" is the PID
// "PowerEdge-R640"; a value that still breaks the PID or SN rules (see
// CheckPID and CheckSN) makes that source fail with the reason.
//
// When no source gives an identity, Read returns a *SearchError that wraps
// ErrNoIdentity and names every place looked at and why each failed.
//
// The platform is a catalog id (c3750e, c2900, uc500). It is the one the
// identity file names; else the one a known Cisco PID prefix implies
// (WS-C3750E-, CISCO29, UC5); else Reader.Platform; else empty. Where no
// hostname is given, a c2900 is "Router" and anything else "Switch", as
// IOS names an unconfigured device.
package udi
