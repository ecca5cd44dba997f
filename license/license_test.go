package license

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCanonical(t *testing.T) {
	l := &License{
		ID: "0a1b2c3d4e5f6071", Feature: "phones", Version: "1.0", Type: Extension,
		UDI: "UC520-8U-4FXO-K9:FTX1234A0BC", Count: 8, Addition: Additive,
		Period: 60 * 24 * time.Hour, Start: t0, End: t0.AddDate(1, 0, 0),
		Comment: "line one\nline two ", Issued: t0.Add(90 * time.Second), PAK: "3XA7QK2M9TZ",
		KeyID: "933fcc1ab2138a02", Signature: make([]byte, 64),
	}
	want := "id: 0a1b2c3d4e5f6071\n" +
		"feature: phones\n" +
		"version: 1.0\n" +
		"type: extension\n" +
		"udi: UC520-8U-4FXO-K9:FTX1234A0BC\n" +
		"count: 8\n" +
		"addition: additive\n" +
		"period: 5184000\n" +
		"start: 2026-11-01T00:00:00Z\n" +
		"end: 2027-11-01T00:00:00Z\n" +
		`comment: line one\nline two\x20` + "\n" +
		"issued: 2026-11-01T00:01:30Z\n" +
		"pak: 3XA7QK2M9TZ\n" +
		"key-id: 933fcc1ab2138a02\n"
	if got := string(l.Canonical()); got != want {
		t.Errorf("Canonical() =\n%s\nwant\n%s", got, want)
	}

	// Optional fields at their zero value are left out, and the signature
	// is never part of it.
	m := &License{ID: "x1", Feature: "ipservices", Version: "1.0", Type: RightToUse, Issued: t0, KeyID: "933fcc1ab2138a02"}
	want = "id: x1\nfeature: ipservices\nversion: 1.0\ntype: rightToUse\nissued: 2026-11-01T00:00:00Z\nkey-id: 933fcc1ab2138a02\n"
	if got := string(m.Canonical()); got != want {
		t.Errorf("Canonical() =\n%s\nwant\n%s", got, want)
	}
	m.Signature = []byte("whatever")
	if got := string(m.Canonical()); got != want {
		t.Error("Canonical() depends on the signature")
	}
	// A local time zone does not change the bytes.
	m.Issued = t0.In(time.FixedZone("CET", 3600))
	if got := string(m.Canonical()); got != want {
		t.Errorf("Canonical() with a non-UTC time =\n%s", got)
	}
}

func TestEncodeGolden(t *testing.T) {
	s := testSigner(t)
	ipb := signed(t, s, permanent("6a1f3e0c9b2d4a57", "ipservices"))
	ext := &License{ID: "b3c8e1f04d2a6957", Feature: "advipservices", Version: "1.0", Type: Extension,
		UDI: testUDI, Addition: Exclusive, Period: 30 * 24 * time.Hour, Issued: t0,
		Comment: "Trial for the lab \\ rack 4\nsecond line"}
	sub := &License{ID: "c0ffee0000000001", Feature: "phones", Version: "1.0", Type: PaidSubscription,
		UDI: "UC520-8U-4FXO-K9:FTX1234A0BC", Count: 16, Addition: Additive,
		Start: t0, End: t0.AddDate(1, 0, 0), Issued: t0}
	got := Encode(ipb, signed(t, s, ext), signed(t, s, sub))
	golden(t, "license-file.golden", got)
	ls, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ls, []*License{ipb, ext, sub}) {
		t.Errorf("Parse(Encode(x)) != x")
	}
}

// TestRoundTrip is the property test: for random valid licenses, signing,
// encoding and parsing gives back equal values, the file re-encodes to the
// same bytes, every signature verifies, and each license's canonical bytes
// are exactly its lines in the file.
func TestRoundTrip(t *testing.T) {
	s, tr := testSigner(t), testTrust(t)
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 200 {
		n := 1 + r.IntN(5)
		ls := make([]*License, n)
		for j := range ls {
			ls[j] = signed(t, s, randomLicense(r, fmt.Sprintf("r%d-%d", i, j)))
		}
		file := Encode(ls...)
		got, err := Parse(file)
		if err != nil {
			t.Fatalf("Parse(Encode(...)) failed: %v\n%s", err, file)
		}
		if !reflect.DeepEqual(got, ls) {
			t.Fatalf("round trip changed the licenses:\n got %+v\nwant %+v\n%s", got, ls, file)
		}
		if again := Encode(got...); !bytes.Equal(again, file) {
			t.Fatalf("Encode(Parse(Encode(x))) differs from Encode(x):\n%s\n%s", again, file)
		}
		for _, l := range got {
			if err := tr.Verify(l); err != nil {
				t.Fatalf("Verify after round trip: %v", err)
			}
			block := append(l.Canonical(), "signature: "...)
			if !bytes.Contains(file, block) {
				t.Fatalf("canonical bytes of %s are not its lines in the file:\n%s", l.ID, l.Canonical())
			}
		}
	}
}

// randomLicense makes a valid license of a random type with random
// optional fields; the comment draws on every character class the escaping
// treats specially.
func randomLicense(r *rand.Rand, id string) *License {
	l := &License{
		ID:      id,
		Feature: []string{"ipservices", "advipservices", "securityk9", "phones", "uck9", "prem_eval"}[r.IntN(6)],
		Version: []string{"1.0", "2.1", "15.0.1"}[r.IntN(3)],
		Type:    Types[r.IntN(len(Types))],
		Issued:  t0.Add(time.Duration(r.IntN(1e6)) * time.Second),
	}
	if needsLock(l.Type) || r.IntN(2) == 0 {
		l.UDI = fmt.Sprintf("WS-C3750E-24TD-S:FDO%04dX0AB", r.IntN(10000))
	}
	if r.IntN(2) == 0 {
		l.Count = r.IntN(MaxCount + 1)
	}
	if r.IntN(3) > 0 {
		l.Addition = []Addition{Exclusive, Additive}[r.IntN(2)]
	}
	if l.Type.Metered() {
		l.Period = time.Duration(1+r.IntN(1e8)) * time.Second
	}
	if l.Type == PaidSubscription || r.IntN(4) == 0 {
		l.End = t0.AddDate(0, 1+r.IntN(36), 0)
		if r.IntN(2) == 0 {
			l.Start = t0.AddDate(0, 0, -r.IntN(30))
		}
	}
	if c := randomText(r, 30); r.IntN(3) > 0 && len(c) <= MaxCommentLen {
		l.Comment = strings.ToValidUTF8(c, "?")
	}
	if r.IntN(2) == 0 {
		l.PAK = fmt.Sprintf("PAK%08d", r.IntN(1e8))
	}
	return l
}

// validFile is a signed two-license file the error cases below mutate.
func validFile(t *testing.T) string {
	s := testSigner(t)
	a := signed(t, s, permanent("aaaa000000000001", "ipservices"))
	b := signed(t, s, permanent("aaaa000000000002", "advipservices"))
	return string(Encode(a, b))
}

func TestParseErrors(t *testing.T) {
	base := validFile(t)
	firstSig := base[strings.Index(base, "signature: "):]
	firstSig = firstSig[:strings.Index(firstSig, "\n")+1]
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("test setup: %q not in the file", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	const (
		udiLine    = "udi: " + testUDI + "\n"
		issuedLine = "issued: 2026-11-01T00:00:00Z\n"
	)
	tests := []struct {
		name   string
		mutate func(string) string
		is     error
		line   int // expected SyntaxError line; 0: not checked
		want   string
	}{
		{"empty", func(string) string { return "" }, ErrInvalidFile, 0, "empty input"},
		{"blank lines only", func(string) string { return "\n\n\n" }, ErrInvalidFile, 0, "empty input"},
		{"comments only", func(string) string { return "# hello\n" }, ErrInvalidFile, 0, "no header line"},
		{"no header", replace("licensed-license-file v1\n", ""), ErrInvalidFile, 4, "want the header line"},
		{"future version", replace("licensed-license-file v1", "licensed-license-file v2"), ErrInvalidFile, 1, `unsupported version "v2"`},
		{"header only", func(string) string { return "licensed-license-file v1\n# nothing\n" }, ErrInvalidFile, 0, "no licenses"},
		{"second header", replace("\n# License 2", "\nlicensed-license-file v1\n# License 2"), ErrInvalidFile, 0, "second header line"},
		{"byte order mark", func(s string) string { return "\ufeff" + s }, ErrInvalidFile, 1, "byte order mark"},
		{"CRLF", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }, ErrInvalidFile, 1, "carriage return"},
		{"lone CR hides a line", replace("type: permanent\n", "type: permanent\rtype: evaluation\n"), ErrInvalidFile, 0, "carriage return"},
		{"NUL in a comment", replace("# License 1", "# Lic\x00ense 1"), ErrInvalidFile, 0, "NUL byte"},
		{"not UTF-8", replace("# License 1", "# Lic\xffense 1"), ErrInvalidFile, 0, "not valid UTF-8"},
		{"bidi override in a comment", replace("# License 1", "# Lic\u202eense 1"), ErrInvalidFile, 0, "U+202E"},
		{"escape sequence in a comment", replace("# License 1", "# \x1b[2K License 1"), ErrInvalidFile, 0, "U+001B"},
		{"tab", replace("type: permanent", "type:\tpermanent"), ErrInvalidFile, 0, "tab"},
		{"spaces-only line", replace("\n# License 2", "\n   \n# License 2"), ErrInvalidFile, 0, "only spaces"},
		{"unknown field", replace(issuedLine, issuedLine+"colour: red\n"), ErrInvalidFile, 0, `unknown field "colour"`},
		{"duplicate field", replace("feature: ipservices\n", "feature: ipservices\nfeature: ipservices\n"), ErrInvalidFile, 0, "feature: duplicate field (first on line"},
		{"out of order", replace("feature: ipservices\nversion: 1.0\n", "version: 1.0\nfeature: ipservices\n"), ErrInvalidFile, 0, `field "feature" must come before "version"`},
		{"missing signature", replace(firstSig, ""), ErrInvalidFile, 5, `license starting here has no "signature" field`},
		{"missing signature at end", func(s string) string { return s[:strings.LastIndex(s, "signature: ")] }, ErrInvalidFile, 0, `no "signature" field`},
		{"missing issued", replace(issuedLine, ""), ErrInvalidFile, 0, `no "issued" field`},
		{"missing key-id", replace("key-id: ", "keyid: "), ErrInvalidFile, 0, `unknown field "keyid"`},
		{"trailing garbage", func(s string) string { return s + "garbage\n" }, ErrInvalidFile, 0, `want "key: value", got "garbage"`},
		{"trailing partial block", func(s string) string { return s + "\nid: zzzz\nfeature: x\n" }, ErrInvalidFile, 0, `no "version" field`},
		{"field after signature", func(s string) string { return s + "comment: sneaked in\n" }, ErrInvalidFile, 0, `field "comment" after "signature"`},
		{"no space after colon", replace("type: permanent", "type:permanent"), ErrInvalidFile, 0, "want a space after the colon"},
		{"upper-case key", replace("type: permanent", "Type: permanent"), ErrInvalidFile, 0, `want "key: value"`},
		{"indented field", replace("type: permanent", " type: permanent"), ErrInvalidFile, 0, `want "key: value"`},
		{"empty value", replace("feature: ipservices", "feature: "), ErrInvalidFile, 0, "feature: empty value"},
		{"empty feature", replace("feature: ipservices", "feature:"), ErrInvalidFile, 0, "feature: empty value; every license needs one"},
		{"empty key id", replace("key-id: 933fcc1ab2138a02", "key-id:"), ErrInvalidFile, 0, "key-id: empty value; every license needs one"},
		{"empty comment", replace(issuedLine, "comment: \n"+issuedLine), ErrInvalidFile, 0, "comment: empty value; leave the field out instead"},
		{"feature with a space", replace("feature: ipservices", "feature: ip services"), ErrInvalidFile, 0, `feature: "ip services": want`},
		{"unknown type", replace("type: permanent", "type: forever"), ErrInvalidFile, 0, `type: unknown type "forever"`},
		{"MIB name demo is not a type", replace("type: permanent", "type: demo"), ErrInvalidFile, 0, `unknown type "demo"`},
		{"count negative", replace(udiLine, udiLine+"count: -1\n"), ErrInvalidFile, 0, `count: "-1" is not a whole number`},
		{"count too large", replace(udiLine, udiLine+"count: 1000001\n"), ErrInvalidFile, 0, "count: 1000001 is out of range (at most 1000000)"},
		{"count zero", replace(udiLine, udiLine+"count: 0\n"), ErrInvalidFile, 0, "count: 0 is the default; omit the field"},
		{"count leading zero", replace(udiLine, udiLine+"count: 08\n"), ErrInvalidFile, 0, "without leading zeros"},
		{"count plus sign", replace(udiLine, udiLine+"count: +8\n"), ErrInvalidFile, 0, "not a whole number"},
		{"count huge", replace(udiLine, udiLine+"count: 99999999999999999999999\n"), ErrInvalidFile, 0, "not a whole number"},
		{"bad addition", replace("addition: exclusive", "addition: both"), ErrInvalidFile, 0, `addition: "both": want exclusive or additive`},
		{"period on permanent", replace("addition: exclusive\n", "addition: exclusive\nperiod: 3600\n"), ErrInvalidFile, 0, "period: not allowed for type permanent"},
		{"metered without period", replace("type: permanent", "type: extension"), ErrInvalidFile, 0, "period: required for metered type extension"},
		{"subscription without end", replace("type: permanent", "type: paidSubscription"), ErrInvalidFile, 0, "end: required for type paidSubscription"},
		{"permanent without UDI", replace(udiLine, ""), ErrInvalidFile, 0, "udi: required for type permanent"},
		{"bad UDI", replace(udiLine, "udi: WS-C3750E-24TD-S\n"), ErrInvalidFile, 0, "want PID:SN"},
		{"UDI with two colons", replace(udiLine, "udi: A:B:C\n"), ErrInvalidFile, 0, "serial number"},
		{"time with offset", replace(issuedLine, "issued: 2026-11-01T00:00:00+00:00\n"), ErrInvalidFile, 0, "issued: \"2026-11-01T00:00:00+00:00\" is not a time"},
		{"fractional seconds", replace(issuedLine, "issued: 2026-11-01T00:00:00.5Z\n"), ErrInvalidFile, 0, "whole seconds"},
		{"lower-case z", replace(issuedLine, "issued: 2026-11-01t00:00:00z\n"), ErrInvalidFile, 0, "is not a time"},
		{"time before 1970", replace(issuedLine, "issued: 1969-12-31T23:59:59Z\n"), ErrInvalidFile, 0, "out of range (years 1970 to 9999)"},
		{"end before start", replace("addition: exclusive\n", "addition: exclusive\nstart: 2027-01-01T00:00:00Z\nend: 2026-01-01T00:00:00Z\n"), ErrInvalidFile, 0, "end: 2026-01-01T00:00:00Z is not after start"},
		{"bad escape", replace(issuedLine, `comment: a\qb`+"\n"+issuedLine), ErrInvalidFile, 0, `comment: unknown escape \q`},
		{"non-canonical escape", replace(issuedLine, `comment: \x41BC`+"\n"+issuedLine), ErrInvalidFile, 0, "canonical form"},
		{"trailing space", replace("type: permanent", "type: permanent "), ErrInvalidFile, 0, "type: value ends with a space"},
		{"comment too long", replace(issuedLine, "comment: "+strings.Repeat("x", 256)+"\n"+issuedLine), ErrInvalidFile, 0, "comment: 256 bytes; at most 255"},
		{"escaped comment not UTF-8", replace(issuedLine, `comment: a\xffb`+"\n"+issuedLine), ErrInvalidFile, 0, "comment: not valid UTF-8"},
		{"short signature", replace(firstSig, "signature: AAAA\n"), ErrInvalidFile, 0, "signature: 3 bytes; want 64"},
		{"signature not base64", replace(firstSig, "signature: not*base64\n"), ErrInvalidFile, 0, "signature: not valid base64"},
		{"signature unpadded", replace(firstSig, strings.TrimSuffix(firstSig, "==\n")+"\n"), ErrInvalidFile, 0, "signature: not valid base64"},
		{"upper-case key id", func(s string) string {
			i := strings.Index(s, "key-id: ")
			return s[:i+8] + strings.ToUpper(s[i+8:i+24]) + s[i+24:]
		}, ErrInvalidFile, 0, "want 16 lowercase hex digits"},
		{"duplicate license", func(s string) string {
			return s + "\n" + strings.SplitN(s, "\n\n", 3)[1] + "\n"
		}, ErrInvalidFile, 0, "license aaaa000000000001 appears twice (first on line 5)"},
		{"id with a slash", replace("id: aaaa000000000001", "id: aaaa/0001"), ErrInvalidFile, 0, `id: "aaaa/0001": want`},
		{"too large", func(s string) string { return s + strings.Repeat("#\n", MaxFileSize/2) }, ErrTooLarge, 0, "the limit is 262144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.mutate(base)
			ls, err := Parse([]byte(in))
			if err == nil {
				t.Fatalf("Parse accepted it (%d licenses):\n%s", len(ls), in)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v; want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to contain %q", err, tt.want)
			}
			var se *SyntaxError
			if errors.As(err, &se) {
				if tt.line != 0 && se.Line != tt.line {
					t.Errorf("error on line %d; want line %d (%v)", se.Line, tt.line, err)
				}
				if se.Line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("line %d", se.Line)) {
					t.Errorf("error %q does not name its line", err)
				}
			}
		})
	}
}

// TestParseErrorLine checks that the line number in an error is the line
// of the field at fault.
func TestParseErrorLine(t *testing.T) {
	base := validFile(t)
	in := strings.Replace(base, "addition: exclusive\n", "addition: exclusive\nperiod: 60\n", 1)
	_, err := Parse([]byte(in))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SyntaxError", err)
	}
	lines := strings.Split(in, "\n")
	if se.Line < 1 || lines[se.Line-1] != "period: 60" || se.Field != "period" {
		t.Errorf("error %v points at line %d field %q: %q", err, se.Line, se.Field, lines[max(se.Line-1, 0)])
	}
}

// TestParseAccepts covers the freedom the format allows a writer: notes
// anywhere, several blank lines, no final newline.
func TestParseAccepts(t *testing.T) {
	base := validFile(t)
	tests := []struct {
		name   string
		mutate func(string) string
	}{
		{"as written", func(s string) string { return s }},
		{"notes before the header", func(s string) string { return "# from the portal\n\n" + s }},
		{"note inside a block", func(s string) string {
			return strings.Replace(s, "type: permanent\n", "type: permanent\n# a note for people: signature: forged\n", 1)
		}},
		{"several blank lines", func(s string) string { return strings.ReplaceAll(s, "\n\n", "\n\n\n\n") }},
		{"no final newline", func(s string) string { return strings.TrimSuffix(s, "\n") }},
		{"trailing blank lines and notes", func(s string) string { return s + "\n\n# end of file\n" }},
		{"no notes at all", func(s string) string {
			var keep []string
			for _, l := range strings.Split(s, "\n") {
				if !strings.HasPrefix(l, "#") {
					keep = append(keep, l)
				}
			}
			return strings.Join(keep, "\n")
		}},
	}
	want, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	tr := testTrust(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.mutate(base)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Error("parsed licenses differ")
			}
			for _, l := range got {
				if err := tr.Verify(l); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := func() *License { return permanent("v1", "ipservices") }
	tests := []struct {
		name   string
		change func(*License)
		want   string // "" = valid
	}{
		{"valid permanent", func(*License) {}, ""},
		{"valid unlocked right-to-use", func(l *License) { l.Type, l.UDI = RightToUse, "" }, ""},
		{"valid evaluation", func(l *License) { l.Type, l.UDI, l.Period = Evaluation, "", 60*24*time.Hour }, ""},
		{"valid counted", func(l *License) { l.Count, l.Addition = MaxCount, Additive }, ""},
		{"empty id", func(l *License) { l.ID = "" }, "id: required"},
		{"empty feature", func(l *License) { l.Feature = "" }, "feature: empty feature name"},
		{"long feature", func(l *License) { l.Feature = strings.Repeat("f", 129) }, "feature:"},
		{"empty version", func(l *License) { l.Version = "" }, "version: required"},
		{"empty type", func(l *License) { l.Type = "" }, "type: required"},
		{"unknown type", func(l *License) { l.Type = "demo" }, `type: unknown type "demo" (known: evaluation, extension`},
		{"count below zero", func(l *License) { l.Count = -1 }, "count: -1 is out of range 0..1000000"},
		{"count above max", func(l *License) { l.Count = MaxCount + 1 }, "count: 1000001 is out of range"},
		{"negative period", func(l *License) { l.Type, l.Period = Extension, -time.Second }, "period:"},
		{"period too long", func(l *License) { l.Type, l.Period = Extension, MaxPeriod+time.Second }, "period:"},
		{"sub-second period", func(l *License) { l.Type, l.Period = Extension, 1500*time.Millisecond }, "not a whole number of seconds"},
		{"sub-second issued", func(l *License) { l.Issued = t0.Add(time.Millisecond) }, "issued: 2026-11-01T00:00:00.001Z is not a whole second"},
		{"year 10000", func(l *License) { l.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "end:"},
		{"no issued", func(l *License) { l.Issued = time.Time{} }, "issued: required"},
		{"newline in feature", func(l *License) { l.Feature = "ip\nservices" }, "feature:"},
		{"bad pak", func(l *License) { l.PAK = "A B" }, "pak:"},
		{"bad key id", func(l *License) { l.KeyID = "xyz" }, "key-id:"},
		{"bad signature length", func(l *License) { l.Signature = []byte{1} }, "signature: 1 bytes; want 64"},
	}
	for _, tt := range tests {
		l := ok()
		tt.change(l)
		err := l.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v; want ErrInvalid containing %q", tt.name, err, tt.want)
		}
	}
	if err := (*License)(nil).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil license: %v", err)
	}
}

func TestValidateUDI(t *testing.T) {
	for _, good := range []string{testUDI, "ISR4321/K9:FDO221418T8", "CISCO2951:FHH1216P07R", "C9300-24U+A:X.1_2"} {
		if err := ValidateUDI(good); err != nil {
			t.Errorf("ValidateUDI(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", ":", "PID:", ":SN", "PID SN", "PID:S N", "-PID:SN", "PID:-SN", "P:I:D", "PID:SN\n", strings.Repeat("P", 65) + ":SN"} {
		if err := ValidateUDI(bad); err == nil {
			t.Errorf("ValidateUDI(%q) accepted it", bad)
		}
	}
}

// TestSignNormalizes: Sign brings times to the form a file holds, so the
// signed license equals what Parse returns, and leaves l alone on error.
func TestSignNormalizes(t *testing.T) {
	s := testSigner(t)
	l := permanent("n1", "ipservices")
	l.Issued = t0.In(time.FixedZone("PST", -8*3600)).Add(999 * time.Millisecond)
	if err := s.Sign(l); err != nil {
		t.Fatal(err)
	}
	if l.Issued != t0 || l.KeyID != s.KeyID || len(l.Signature) != 64 {
		t.Errorf("after Sign: issued %v key %q sig %d bytes", l.Issued, l.KeyID, len(l.Signature))
	}
	ls, err := Parse(Encode(l))
	if err != nil || !reflect.DeepEqual(ls[0], l) {
		t.Errorf("Parse(Encode(signed)) = %+v, %v", ls, err)
	}

	bad := permanent("n2", "")
	before := *bad
	if err := s.Sign(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "license n2: feature: empty feature name") {
		t.Errorf("Sign(invalid) = %v", err)
	}
	if !reflect.DeepEqual(*bad, before) {
		t.Error("Sign changed an invalid license")
	}
	if err := s.Sign(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Sign(nil) = %v", err)
	}
}
