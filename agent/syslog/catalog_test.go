package syslog

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
)

var update = flag.Bool("update", false, "rewrite testdata/syslog/catalog.golden")

const goldenPath = "../../testdata/syslog/catalog.golden"

var (
	testTime = time.Date(2025, time.March, 1, 0, 1, 2, 123_000_000, time.UTC)
	testUDI  = "WS-C3750E-24TD-S:FDO1234X0AB"
)

// catalogCases are events of every kind, with the variants that change the
// text.
func catalogCases() []struct {
	name string
	e    agent.Event
} {
	lic := func(kind agent.EventKind, feature, typ string, store int, storeName string) agent.Event {
		return agent.Event{Time: testTime, Kind: kind, Feature: feature, Version: "1.0", Type: typ,
			UDI: testUDI, Slot: store, StoreName: storeName}
	}
	counted := func(kind agent.EventKind, inUse, capacity int) agent.Event {
		return agent.Event{Time: testTime, Kind: kind, Feature: "phones", Version: "1.0", Type: "permanent",
			UDI: "UC520-16U-4FXO-K9:FTX1234A0BC", Capacity: capacity, InUse: inUse, WhatIsCounted: "IP phones"}
	}
	withRemaining := func(e agent.Event, r agent.Seconds) agent.Event { e.Remaining = r; return e }
	return []struct {
		name string
		e    agent.Event
	}{
		{"started", agent.Event{Time: testTime, Kind: agent.EventStarted, UDI: testUDI, Module: "c3750e", Level: "ipservices", NextLevel: "ipservices", License: "ipservices"}},
		{"started without a license", agent.Event{Time: testTime, Kind: agent.EventStarted, UDI: testUDI, Module: "c3750e", Level: "ipbase", NextLevel: "advipservices"}},
		{"started with technology packages", agent.Event{Time: testTime, Kind: agent.EventStarted, UDI: "CISCO2951/K9:FHH1216P07R", Module: "c2900", Level: "ipbasek9,securityk9", NextLevel: "ipbasek9,securityk9,datak9"}},
		{"installed", lic(agent.EventInstalled, "ipservices", "permanent", 0, "Primary License Storage")},
		{"cleared", lic(agent.EventCleared, "ipservices", "permanent", 0, "Primary License Storage")},
		{"revoked", lic(agent.EventRevoked, "advipservices", "permanent", 0, "Primary License Storage")},
		{"eulaAccepted", lic(agent.EventEULAAccepted, "ipservices", "evaluation", 1, "Built-In License Storage")},
		{"eulaAccepted for all features", agent.Event{Time: testTime, Kind: agent.EventEULAAccepted, UDI: testUDI}},
		{"expiryWarning metered", withRemaining(lic(agent.EventExpiryWarning, "ipservices", "evaluation", 1, "Built-In License Storage"), 14*86400)},
		{"expiryWarning last week", withRemaining(lic(agent.EventExpiryWarning, "ipservices", "evaluation", 1, "Built-In License Storage"), 6*86400+4*3600)},
		{"expiryWarning calendar", withRemaining(lic(agent.EventExpiryWarning, "securityk9", "paidSubscription", 0, "Primary License Storage"), 3*7*86400+2*86400)},
		{"expired", lic(agent.EventExpired, "ipservices", "evaluation", 1, "Built-In License Storage")},
		{"countAboutToExceed", counted(agent.EventCountAboutToExceed, 7, 8)},
		{"countExceeded at capacity", counted(agent.EventCountExceeded, 8, 8)},
		{"countExceeded beyond capacity", counted(agent.EventCountExceeded, 9, 8)},
		{"rtuTransitionWarning", withRemaining(lic(agent.EventRTUWarning, "uck9", "evalRightToUse", 1, "Built-In License Storage"), 5*86400)},
		{"rtuTransition", lic(agent.EventRTUTransition, "uck9", "evalRightToUse", 1, "Built-In License Storage")},
		{"bootLevel", agent.Event{Time: testTime, Kind: agent.EventBootLevel, UDI: testUDI, Module: "c3750e", Level: "ipbase", NextLevel: "ipservices", License: "ipservices"}},
		{"bootLevel without a license", agent.Event{Time: testTime, Kind: agent.EventBootLevel, UDI: testUDI, Module: "c3750e", Level: "ipbase", NextLevel: "advipservices"}},
		{"tamper", agent.Event{Time: testTime, Kind: agent.EventTamper, UDI: testUDI, Detail: "installed license L-42 failed verification and is ignored: bad signature"}},
		{"clockRollback", agent.Event{Time: testTime, Kind: agent.EventClockRollback, UDI: testUDI, Detail: "wall clock stepped back to 2024-01-01T00:00:00Z, behind 2025-03-01T00:01:02Z"}},
		{"storeRecovered", agent.Event{Time: testTime, Kind: agent.EventStoreRecovered, UDI: testUDI, Detail: "license store was damaged (checksum mismatch); restored from the last good backup."}},
		{"reload", agent.Event{Time: testTime, Kind: agent.EventReload, UDI: testUDI}},
	}
}

func testHeader() header {
	return header{facility: FacilityLocal7, hostname: "sw1", appName: DefaultAppName, procID: "4711", loc: time.UTC}
}

// TestCatalogGolden renders every case as String, RFC 3164 and RFC 5424
// lines, and the local log line.
func TestCatalogGolden(t *testing.T) {
	h := testHeader()
	var b bytes.Buffer
	for _, c := range catalogCases() {
		ms := Messages(c.e)
		if len(ms) == 0 {
			t.Errorf("%s: no message", c.name)
			continue
		}
		b.WriteString("## " + c.name + "\n")
		for _, m := range ms {
			if err := m.Validate(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			b.WriteString(m.String() + "\n")
			b.Write(h.line(FormatRFC3164, c.e.Time, m))
			b.WriteString("\n")
			b.Write(h.line(FormatRFC5424, c.e.Time, m))
			b.WriteString("\n")
			b.Write(h.localLine(c.e.Time, m))
		}
		b.WriteString("\n")
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("catalog output differs from %s (run go test -update after checking the change):\n%s", goldenPath, lineDiff(string(want), b.String()))
	}
}

// lineDiff shows the first lines that differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			out = append(out, "line "+strconv.Itoa(i+1)+":\n  want "+wl+"\n  got  "+gl)
		}
	}
	return strings.Join(out, "\n")
}

// TestDeviceTexts pins the messages whose text devices print verbatim.
func TestDeviceTexts(t *testing.T) {
	for _, tt := range []struct {
		e    agent.Event
		want string
	}{
		{agent.Event{Kind: agent.EventInstalled, Feature: "securityk9", Version: "1.0", UDI: "CISCO2951:FHH1216P07R", Slot: 2, StoreName: "Primary License Storage"},
			"%LICENSE-6-INSTALL: Feature securityk9 1.0 was installed in this device. UDI=CISCO2951:FHH1216P07R; StoreIndex=2:Primary License Storage"},
		{agent.Event{Kind: agent.EventEULAAccepted, Feature: "prem_eval", Version: "1.0", UDI: "CSR1000V:9L7UG7XECKE", Slot: 0, StoreName: "Built-In License Storage"},
			"%LICENSE-6-EULA_ACCEPTED: EULA for feature prem_eval 1.0 has been accepted. UDI=CSR1000V:9L7UG7XECKE; StoreIndex=0:Built-In License Storage"},
		{agent.Event{Kind: agent.EventEULAAccepted},
			"%LICENSE-6-EULA_ACCEPT_ALL: The Right to Use End User License Agreement is accepted"},
		{agent.Event{Kind: agent.EventBootLevel, Module: "c2951", NextLevel: "datak9", License: "datak9"},
			"%IOS_LICENSE_IMAGE_APPLICATION-6-LICENSE_LEVEL: Module name = c2951 Next reboot level = datak9 and License = datak9"},
		{agent.Event{Kind: agent.EventStarted, Module: "csr1000v", NextLevel: "ax"},
			"%IOS_LICENSE_IMAGE_APPLICATION-6-LICENSE_LEVEL: Module name = csr1000v Next reboot level = ax and License = No valid license found"},
		{agent.Event{Kind: agent.EventStarted, Module: "c3750e", Level: "ipservices", License: "ipservices"},
			"%IOS_LICENSE_IMAGE_APPLICATION-6-LICENSE_LEVEL: Module name = c3750e Next reboot level = ipservices and License = ipservices"},
	} {
		m, ok := Format(tt.e)
		if !ok {
			t.Errorf("Format(%s): no message", tt.e.Kind)
			continue
		}
		if got := m.String(); got != tt.want {
			t.Errorf("Format(%s):\n got %s\nwant %s", tt.e.Kind, got, tt.want)
		}
	}
}

func TestFormatNoMessage(t *testing.T) {
	for _, e := range []agent.Event{
		{Kind: "noSuchKind", Feature: "ipservices"},
		{Kind: ""},
		{Kind: agent.EventStarted, UDI: testUDI}, // no image levels on this platform
		{Kind: agent.EventBootLevel},
	} {
		if m, ok := Format(e); ok {
			t.Errorf("Format(%+v) = %s, want no message", e, m)
		}
		if ms := Messages(e); len(ms) != 0 {
			t.Errorf("Messages(%+v) = %v, want none", e, ms)
		}
	}
}

func TestTechnologyPackageLines(t *testing.T) {
	ms := Messages(agent.Event{Kind: agent.EventStarted, Module: "c2900", NextLevel: "ipbasek9, securityk9,,datak9"})
	var got []string
	for _, m := range ms {
		got = append(got, m.Text)
	}
	want := []string{
		"Module name = c2900 Next reboot level = ipbasek9 and License = ipbasek9",
		"Module name = c2900 Next reboot level = securityk9 and License = securityk9",
		"Module name = c2900 Next reboot level = datak9 and License = datak9",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m, _ := Format(agent.Event{Kind: agent.EventStarted, Module: "c2900", NextLevel: "ipbasek9,securityk9"}); m.Text != want[0] {
		t.Errorf("Format = %q, want the first line %q", m.Text, want[0])
	}
}

// patternRegexp turns a catalog pattern into a regexp: {x} is any text,
// [..] is optional, " | " separates alternative forms.
func patternRegexp(t *testing.T, pattern string) *regexp.Regexp {
	var alts []string
	for _, alt := range strings.Split(pattern, " | ") {
		var b strings.Builder
		for i := 0; i < len(alt); i++ {
			switch c := alt[i]; c {
			case '{':
				end := strings.IndexByte(alt[i:], '}')
				if end < 0 {
					t.Fatalf("pattern %q: unclosed {", pattern)
				}
				b.WriteString(".+?")
				i += end
			case '[':
				b.WriteString("(?:")
			case ']':
				b.WriteString(")?")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		alts = append(alts, b.String())
	}
	return regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
}

// TestCatalogCoversFormat checks that every message Format makes is in the
// catalog with the same severity and facility and matches its pattern, and
// that every catalog entry is made by some event.
func TestCatalogCoversFormat(t *testing.T) {
	seen := map[string]bool{}
	entries := map[string]Entry{}
	for _, e := range Catalog() {
		if entries[e.Mnemonic].Mnemonic != "" {
			t.Errorf("mnemonic %s twice in the catalog", e.Mnemonic)
		}
		entries[e.Mnemonic] = e
		if err := (Message{Facility: e.Facility, Severity: e.Severity, Mnemonic: e.Mnemonic, Text: e.Pattern}).Validate(); err != nil {
			t.Errorf("catalog entry: %v", err)
		}
	}
	for _, c := range catalogCases() {
		for _, m := range Messages(c.e) {
			e, ok := entries[m.Mnemonic]
			if !ok {
				t.Errorf("%s: mnemonic %s not in the catalog", c.name, m.Mnemonic)
				continue
			}
			seen[m.Mnemonic] = true
			if e.Facility != m.Facility || e.Severity != m.Severity {
				t.Errorf("%s: %s, catalog says %s", c.name, m.Tag(), e.Tag())
			}
			kindOK := false
			for _, k := range e.Kinds {
				kindOK = kindOK || k == c.e.Kind
			}
			if !kindOK {
				t.Errorf("%s: kind %s not listed for %s (%v)", c.name, c.e.Kind, e.Mnemonic, e.Kinds)
			}
			if re := patternRegexp(t, e.Pattern); !re.MatchString(m.Text) {
				t.Errorf("%s: text %q does not match the pattern %q", c.name, m.Text, e.Pattern)
			}
		}
	}
	for _, e := range Catalog() {
		if !seen[e.Mnemonic] {
			t.Errorf("catalog entry %s is made by no test case", e.Tag())
		}
	}
}

// TestEveryKindHasAMessage lists the kinds of agent/events.go.
func TestEveryKindHasAMessage(t *testing.T) {
	cases := catalogCases()
	for _, k := range []agent.EventKind{agent.EventStarted, agent.EventInstalled, agent.EventCleared,
		agent.EventRevoked, agent.EventEULAAccepted, agent.EventExpiryWarning, agent.EventExpired,
		agent.EventCountAboutToExceed, agent.EventCountExceeded, agent.EventRTUWarning,
		agent.EventRTUTransition, agent.EventBootLevel, agent.EventTamper, agent.EventClockRollback,
		agent.EventStoreRecovered, agent.EventReload} {
		found := false
		for _, c := range cases {
			if c.e.Kind == k {
				found = true
				if _, ok := Format(c.e); !ok {
					t.Errorf("kind %s: no message", k)
				}
			}
		}
		if !found {
			t.Errorf("kind %s has no test case", k)
		}
	}
}

// TestDocsCatalog checks that docs/SYSLOG.md lists every catalog entry with
// its tag, pattern, when it is sent and origin.
func TestDocsCatalog(t *testing.T) {
	doc, err := os.ReadFile("../../docs/SYSLOG.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `%") {
			continue
		}
		tag := strings.Trim(strings.SplitN(line, "|", 3)[1], " `")
		rows[tag] = line
	}
	for _, e := range Catalog() {
		row, ok := rows[e.Tag()]
		if !ok {
			t.Errorf("docs/SYSLOG.md: no catalog row for %s", e.Tag())
			continue
		}
		if p := "`" + strings.ReplaceAll(e.Pattern, "|", `\|`) + "`"; !strings.Contains(row, p) {
			t.Errorf("docs/SYSLOG.md row of %s lacks the pattern %s", e.Tag(), p)
		}
		if !strings.Contains(row, "| "+e.When+" |") {
			t.Errorf("docs/SYSLOG.md row of %s does not say when: %q", e.Tag(), e.When)
		}
		origin := "ours"
		if e.Device {
			origin = "device"
		}
		if !strings.Contains(row, "| "+origin+" |") {
			t.Errorf("docs/SYSLOG.md row of %s does not say %q", e.Tag(), origin)
		}
		delete(rows, e.Tag())
	}
	for tag := range rows {
		t.Errorf("docs/SYSLOG.md lists %s, which is not in the catalog", tag)
	}
}

func TestFormatRemaining(t *testing.T) {
	for _, tt := range []struct {
		s    agent.Seconds
		want string
	}{
		{-5, "0 seconds"},
		{0, "0 seconds"},
		{1, "1 second"},
		{42, "42 seconds"},
		{60, "1 minute"},
		{61, "1 minute 1 second"},
		{3*3600 + 5*60 + 9, "3 hours 5 minutes"},
		{86400, "1 day"},
		{6*86400 + 4*3600, "6 days 4 hours"},
		{7 * 86400, "1 week"},
		{60 * 86400, "8 weeks 4 days"},
		{28 * 86400, "4 weeks"},
		{15*86400 + 23*3600, "2 weeks 1 day"},
	} {
		if got := FormatRemaining(tt.s); got != tt.want {
			t.Errorf("FormatRemaining(%d) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		err  string
	}{
		{"informational", 6, ""},
		{"Warnings", 4, ""},
		{" debugging ", 7, ""},
		{"0", 0, ""},
		{"7", 7, ""},
		{"8", 0, "out of range"},
		{"-1", 0, "out of range"},
		{"info", 0, `unknown syslog severity "info"`},
		{"", 0, "unknown syslog severity"},
	} {
		got, err := ParseSeverity(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSeverity(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSeverity(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		if n, _ := ParseSeverity(SeverityName(got)); n != got {
			t.Errorf("SeverityName(%d) = %q does not parse back", got, SeverityName(got))
		}
	}
	if SeverityName(9) != "9" {
		t.Errorf("SeverityName(9) = %q", SeverityName(9))
	}
}

func TestParseFacility(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		err  string
	}{
		{"local7", 23, ""},
		{"LOCAL0", 16, ""},
		{"daemon", 3, ""},
		{"23", 23, ""},
		{"24", 0, "out of range"},
		{"local8", 0, `unknown syslog facility "local8"`},
	} {
		got, err := ParseFacility(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseFacility(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFacility(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		if FacilityName(got) != strings.ToLower(tt.in) && tt.in != "23" {
			t.Errorf("FacilityName(%d) = %q", got, FacilityName(got))
		}
	}
}

func TestMessageValidate(t *testing.T) {
	ok := Message{Facility: "LICENSE", Severity: 6, Mnemonic: "INSTALL", Text: "x"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		m    Message
		want string
	}{
		{Message{Facility: "", Severity: 6, Mnemonic: "X", Text: "x"}, "empty facility"},
		{Message{Facility: "lic", Severity: 6, Mnemonic: "X", Text: "x"}, `facility "lic" has 'l'`},
		{Message{Facility: "LICENSE", Severity: 8, Mnemonic: "X", Text: "x"}, "severity 8 out of range"},
		{Message{Facility: "LICENSE", Severity: -1, Mnemonic: "X", Text: "x"}, "severity -1 out of range"},
		{Message{Facility: "LICENSE", Severity: 6, Mnemonic: "A-B", Text: "x"}, `mnemonic "A-B" has '-'`},
		{Message{Facility: "LICENSE", Severity: 6, Mnemonic: strings.Repeat("M", 33), Text: "x"}, "longer than 32"},
		{Message{Facility: "LICENSE", Severity: 6, Mnemonic: "X", Text: " \t"}, "empty text"},
	} {
		err := tt.m.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.m, err, tt.want)
		}
	}
}
