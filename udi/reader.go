package udi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Bounds on the EEPROM search, so a switch with dozens of transceiver
// EEPROMs on its I2C buses is not read end to end.
const (
	// MaxEEPROMCandidates is how many eeprom/nvmem files are examined.
	MaxEEPROMCandidates = 64
	// MaxEEPROMRead is how many bytes are read from one candidate.
	MaxEEPROMRead = 4 << 10
	// maxDirEntries bounds the listing of one sysfs bus directory.
	maxDirEntries = 4096
	// maxSysfsValue bounds one DMI attribute or /etc/hostname.
	maxSysfsValue = 4 << 10
)

// Reader finds the device identity. The zero value reads the real
// hardware under "/".
type Reader struct {
	// Root is the filesystem root for the hardware sources; "" means "/".
	// Tests point it at a fixture tree.
	Root string
	// IdentityFile is a simulated device's JSON file (--identity). When
	// set it is the only source; it is not under Root.
	IdentityFile string
	// Platform is the catalog id used when the source names none and the
	// PID implies none; "" leaves the platform unknown.
	Platform string
}

// Attempt is one place Read looked at and why it gave no identity.
type Attempt struct {
	Place  string // "ONIE EEPROM /sys/bus/i2c/devices/0-0050/eeprom"
	Reason string
	Err    error // the underlying error, if any
}

// SearchError is Read's failure: every place looked at, in order. It
// wraps ErrNoIdentity and each attempt's underlying error, so
// errors.Is(err, ErrInvalidIdentity) or fs.ErrNotExist can be asked.
type SearchError struct {
	Attempts []Attempt
}

func (e *SearchError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoIdentity.Error())
	b.WriteString(": looked at ")
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", a.Place, a.Reason)
	}
	return b.String()
}

// Unwrap gives ErrNoIdentity and the attempts' errors.
func (e *SearchError) Unwrap() []error {
	errs := []error{ErrNoIdentity}
	for _, a := range e.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// Read returns the identity from the first source that gives one: the
// identity file when set, else an ONIE EEPROM, else DMI. It fails with a
// *SearchError (wrapping ErrNoIdentity) that lists every place looked at,
// or with an ErrInvalidIdentity error when Platform is not a valid
// catalog id or the hardware identity was found but /etc/hostname is
// unreadable or invalid.
func (r Reader) Read() (*Identity, error) {
	if r.Platform != "" {
		if err := CheckPlatform(r.Platform); err != nil {
			return nil, fmt.Errorf("%w: default platform: %v", ErrInvalidIdentity, err)
		}
	}
	if r.IdentityFile != "" {
		id, err := r.readIdentityFile()
		if err != nil {
			return nil, &SearchError{Attempts: []Attempt{{
				Place: "identity file " + r.IdentityFile, Reason: reason(err), Err: err,
			}}}
		}
		return id, nil
	}
	var tried []Attempt
	m, source, ok := r.fromONIE(&tried)
	if !ok {
		m, source, ok = r.fromDMI(&tried)
	}
	if !ok {
		return nil, &SearchError{Attempts: tried}
	}
	m.Active = true
	id := &Identity{Members: []Member{m}, Source: source}
	id.Platform = PlatformForPID(m.PID)
	if id.Platform == "" {
		id.Platform = r.Platform
	}
	host, err := r.hostname()
	if err != nil {
		return nil, err
	}
	if host == "" {
		host = DefaultHostname(id.Platform)
	}
	id.Hostname = host
	// Each part was checked on the way; this keeps Read's result under
	// the same rules as every other identity.
	if err := id.Validate(); err != nil {
		return nil, fmt.Errorf("identity from %s: %w", source, err)
	}
	return id, nil
}

func (r Reader) root() string {
	if r.Root == "" {
		return "/"
	}
	return r.Root
}

func (r Reader) path(rel string) string { return filepath.Join(r.root(), rel) }

func (r Reader) readIdentityFile() (*Identity, error) {
	data, err := readBounded(r.IdentityFile, MaxIdentityFileSize+1)
	if err != nil {
		return nil, err
	}
	id, err := parseIdentity(data, r.Platform)
	if err != nil {
		return nil, err
	}
	id.Source = "identity file " + r.IdentityFile
	return id, nil
}

func (r Reader) fromONIE(tried *[]Attempt) (Member, string, bool) {
	// The sysfs directories whose entries may hold a system EEPROM, and
	// the attribute file in each entry.
	buses := [...]struct{ dir, file string }{
		{"sys/bus/i2c/devices", "eeprom"},  // at24 and similar I2C EEPROM drivers
		{"sys/bus/nvmem/devices", "nvmem"}, // the NVMEM framework (at24 on newer kernels, flash)
	}
	budget := MaxEEPROMCandidates
	for _, bus := range buses {
		dir := r.path(bus.dir)
		pattern := filepath.Join(dir, "*", bus.file)
		names, err := listDir(dir)
		if err != nil {
			why := reason(err)
			if errors.Is(err, fs.ErrNotExist) {
				why = "no " + dir + " directory"
			}
			*tried = append(*tried, Attempt{Place: "ONIE EEPROM " + pattern, Reason: why, Err: err})
			continue
		}
		found := 0
		for _, name := range names {
			p := filepath.Join(dir, name, bus.file)
			st, err := os.Stat(p)
			switch {
			case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), err == nil && st.IsDir():
				continue // this device has no such attribute
			}
			found++
			if budget == 0 {
				*tried = append(*tried, Attempt{Place: "ONIE EEPROM " + p,
					Reason: fmt.Sprintf("not examined: only the first %d candidate files are", MaxEEPROMCandidates)})
				return Member{}, "", false
			}
			budget--
			place := "ONIE EEPROM " + p
			if err != nil {
				*tried = append(*tried, Attempt{Place: place, Reason: reason(err), Err: err})
				continue
			}
			if !st.Mode().IsRegular() {
				*tried = append(*tried, Attempt{Place: place, Reason: "not a regular file"})
				continue
			}
			m, err := readONIEMember(p)
			if err != nil {
				*tried = append(*tried, Attempt{Place: place, Reason: reason(err), Err: err})
				continue
			}
			return m, place, true
		}
		if found == 0 {
			*tried = append(*tried, Attempt{Place: "ONIE EEPROM " + pattern, Reason: "no such files"})
		}
	}
	return Member{}, "", false
}

// errNotTlvInfo marks a candidate that holds something else (a blank
// EEPROM, a transceiver's ID page).
var errNotTlvInfo = errors.New("no TlvInfo header: not a system EEPROM")

func readONIEMember(path string) (Member, error) {
	f, err := os.Open(path)
	if err != nil {
		return Member{}, err
	}
	defer f.Close()
	// Read the header first: I2C reads are slow, and most candidates are
	// not system EEPROMs.
	head := make([]byte, onieHeaderLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Member{}, err
	}
	if n < len(onieMagic) || string(head[:len(onieMagic)]) != onieMagic {
		return Member{}, errNotTlvInfo
	}
	rest, err := io.ReadAll(io.LimitReader(f, MaxEEPROMRead-int64(n)))
	if err != nil {
		return Member{}, err
	}
	info, err := ParseONIE(append(head[:n], rest...))
	if err != nil {
		return Member{}, err
	}
	var m Member
	switch {
	case info.PID() == "":
		return m, fmt.Errorf("%w: EEPROM has neither a Part Number (0x22) nor a Product Name (0x21) TLV", ErrInvalidIdentity)
	case info.SerialNumber == "":
		return m, fmt.Errorf("%w: EEPROM has no Serial Number TLV (0x23)", ErrInvalidIdentity)
	}
	from := "Part Number"
	if info.PartNumber == "" {
		from = "Product Name"
	}
	if m.PID, err = hardwarePID(info.PID()); err != nil {
		return Member{}, fmt.Errorf("%w: %s: %v", ErrInvalidIdentity, from, err)
	}
	if m.SN, err = hardwareSN(info.SerialNumber); err != nil {
		return Member{}, fmt.Errorf("%w: Serial Number: %v", ErrInvalidIdentity, err)
	}
	return m, nil
}

func (r Reader) fromDMI(tried *[]Attempt) (Member, string, bool) {
	dir := r.path("sys/class/dmi/id")
	place := "DMI " + dir
	if _, err := os.Stat(dir); err != nil {
		*tried = append(*tried, Attempt{Place: place, Reason: reason(err), Err: err})
		return Member{}, "", false
	}
	var problems []string
	var firstErr error
	get := func(file string, check func(string) (string, error)) string {
		v, problem, err := dmiValue(dir, file, check)
		if problem != "" {
			problems = append(problems, file+" "+problem)
			if firstErr == nil {
				firstErr = err
			}
		}
		return v
	}
	m := Member{PID: get("product_name", hardwarePID)}
	if m.SN = get("product_serial", hardwareSN); m.SN == "" {
		m.SN = get("board_serial", hardwareSN)
	}
	if m.PID == "" || m.SN == "" {
		*tried = append(*tried, Attempt{Place: place, Reason: strings.Join(problems, ", "), Err: firstErr})
		return Member{}, "", false
	}
	return m, place, true
}

// dmiValue reads one DMI attribute and checks it with check. When there
// is no usable value, problem says why and err is the error behind it, if
// any.
func dmiValue(dir, file string, check func(string) (string, error)) (v, problem string, err error) {
	data, err := readBounded(filepath.Join(dir, file), maxSysfsValue)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "is missing", err
	}
	if err != nil {
		return "", "is unreadable: " + reason(err), err
	}
	raw := strings.TrimSpace(strings.Trim(string(data), "\x00"))
	switch {
	case raw == "":
		return "", "is empty", nil
	case isPlaceholder(raw):
		return "", fmt.Sprintf("is the firmware placeholder %q", raw), nil
	}
	v, err = check(raw)
	if err != nil {
		return "", fmt.Sprintf("%q is unusable: %v", raw, err), fmt.Errorf("%w: %s: %v", ErrInvalidIdentity, file, err)
	}
	return v, "", nil
}

// isPlaceholder reports values that firmware leaves when the vendor did
// not fill a DMI field in.
func isPlaceholder(v string) bool {
	switch strings.ToLower(v) {
	case "to be filled by o.e.m.", "to be filled by oem", "o.e.m.", "oem",
		"default string", "none", "not specified", "not available",
		"not applicable", "n/a", "na", "unknown", "invalid",
		"system serial number", "system product name", "chassis serial number",
		"base board serial number", "serial number", "0123456789", "123456789":
		return true
	}
	// "0", "00000000", "FFFFFFFF", "XXXXXXXX": one character repeated.
	return strings.Trim(v, v[:1]) == "" && strings.ContainsAny(v[:1], "0fFxX")
}

// hardwarePID and hardwareSN normalise a value read from hardware (blank
// runs become "-") and check it.
func hardwarePID(v string) (string, error) {
	v = normalise(v)
	return v, CheckPID(v)
}

func hardwareSN(v string) (string, error) {
	v = normalise(v)
	return v, CheckSN(v)
}

func normalise(v string) string { return strings.Join(strings.Fields(v), "-") }

// hostname reads <Root>/etc/hostname: the first line that is neither blank
// nor a comment. A missing or empty file gives "".
func (r Reader) hostname() (string, error) {
	p := r.path("etc/hostname")
	data, err := readBounded(p, maxSysfsValue)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: hostname: %w", ErrInvalidIdentity, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := CheckHostname(line); err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrInvalidIdentity, p, err)
		}
		return line, nil
	}
	return "", nil
}

// readBounded reads a regular file of at most limit-1 bytes; a file of
// limit bytes or more is refused.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("not a regular file")}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) >= limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d bytes", limit-1)}
	}
	return data, nil
}

// listDir returns up to maxDirEntries names in dir, sorted.
func listDir(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(maxDirEntries)
	if err != nil && err != io.EOF {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// reason is err's message without the path, which the attempt's place
// already names.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, fs.ErrNotExist) {
			return "missing"
		}
		return pe.Err.Error()
	}
	return err.Error()
}
