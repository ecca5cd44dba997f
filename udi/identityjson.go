package udi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxIdentityFileSize is the largest identity file accepted. A real one
// is a few hundred bytes.
const MaxIdentityFileSize = 64 << 10

// ParseIdentityJSON parses an identity file:
//
//	{"hostname": "sw1", "platform": "c3750e",
//	 "members": [{"pid": "WS-C3750E-24TD-S", "sn": "FDO1234X0AB", "active": true}]}
//
// Only these keys are allowed, each at most once, with exactly this case.
// hostname and platform may be left out (see the package doc for the
// defaults); each member needs pid and sn; active is optional and, when no
// member has it, the first member is the active one. The identity must
// pass Validate. Errors wrap ErrInvalidIdentity and name the key at fault.
// The result's Source is empty: the caller knows where the bytes came from.
func ParseIdentityJSON(data []byte) (*Identity, error) {
	return parseIdentity(data, "")
}

// parseIdentity is ParseIdentityJSON with a platform for files that name
// none and whose PID implies none.
func parseIdentity(data []byte, defaultPlatform string) (*Identity, error) {
	if len(data) > MaxIdentityFileSize {
		return nil, invalidf("%d bytes, more than the %d KiB an identity file may have", len(data), MaxIdentityFileSize>>10)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalidf("empty: want a JSON object with \"members\"")
	}
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	raw, err := p.identity()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIdentity, err)
	}
	id := &Identity{Members: raw.members}
	activeSeen := false
	for _, m := range id.Members {
		activeSeen = activeSeen || m.Active
	}
	if !activeSeen {
		id.Members[0].Active = true
	}
	switch {
	case raw.platform != nil:
		// Validate lets "" through (platform unknown), a file may not.
		if err := CheckPlatform(*raw.platform); err != nil {
			return nil, invalidf("platform: %v", err)
		}
		id.Platform = *raw.platform
	case PlatformForPID(id.Active().PID) != "":
		id.Platform = PlatformForPID(id.Active().PID)
	default:
		id.Platform = defaultPlatform
	}
	if raw.hostname != nil {
		id.Hostname = *raw.hostname
	} else {
		id.Hostname = DefaultHostname(id.Platform)
	}
	if err := id.Validate(); err != nil {
		return nil, err
	}
	return id, nil
}

type rawIdentity struct {
	hostname, platform *string
	members            []Member
}

// jsonParser walks the token stream instead of unmarshalling into a
// struct, so that duplicate keys, keys in another case and nulls are
// refused and every error can name its key path.
type jsonParser struct {
	data []byte
	dec  *json.Decoder
}

func (p *jsonParser) identity() (*rawIdentity, error) {
	tok, err := p.token("")
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("want a JSON object, found %s", describe(tok))
	}
	var raw rawIdentity
	membersSeen := false
	seen := map[string]bool{}
	for p.dec.More() {
		key, err := p.key("", seen, "hostname", "platform", "members")
		if err != nil {
			return nil, err
		}
		switch key {
		case "hostname":
			s, err := p.str("hostname")
			if err != nil {
				return nil, err
			}
			raw.hostname = &s
		case "platform":
			s, err := p.str("platform")
			if err != nil {
				return nil, err
			}
			raw.platform = &s
		case "members":
			membersSeen = true
			if raw.members, err = p.members(); err != nil {
				return nil, err
			}
		}
	}
	if _, err := p.token(""); err != nil { // the closing '}'
		return nil, err
	}
	if tok, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("after the JSON object: %v", p.explain(err))
		}
		return nil, fmt.Errorf("%s after the JSON object (%s); a file holds one object", describe(tok), p.at())
	}
	if !membersSeen {
		return nil, errors.New(`missing "members": a device has at least one member`)
	}
	if len(raw.members) == 0 {
		return nil, errors.New(`members: empty list: a device has at least one member`)
	}
	return &raw, nil
}

func (p *jsonParser) members() ([]Member, error) {
	tok, err := p.token("members")
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("members: want an array, found %s", describe(tok))
	}
	var ms []Member
	for p.dec.More() {
		if len(ms) == MaxMembers {
			return nil, fmt.Errorf("members: more than %d members; a stack has at most %d", MaxMembers, MaxMembers)
		}
		m, err := p.member(fmt.Sprintf("members[%d]", len(ms)))
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if _, err := p.token("members"); err != nil { // the closing ']'
		return nil, err
	}
	return ms, nil
}

func (p *jsonParser) member(path string) (Member, error) {
	var m Member
	tok, err := p.token(path)
	if err != nil {
		return m, err
	}
	if tok != json.Delim('{') {
		return m, fmt.Errorf("%s: want an object with \"pid\" and \"sn\", found %s", path, describe(tok))
	}
	seen := map[string]bool{}
	for p.dec.More() {
		key, err := p.key(path, seen, "pid", "sn", "active")
		if err != nil {
			return m, err
		}
		switch key {
		case "pid":
			m.PID, err = p.str(path + ".pid")
		case "sn":
			m.SN, err = p.str(path + ".sn")
		case "active":
			m.Active, err = p.boolean(path + ".active")
		}
		if err != nil {
			return m, err
		}
	}
	if _, err := p.token(path); err != nil { // the closing '}'
		return m, err
	}
	for _, k := range []string{"pid", "sn"} {
		if !seen[k] {
			return m, fmt.Errorf("%s: missing %q", path, k)
		}
	}
	return m, nil
}

// key reads an object key and checks it is allowed and new.
func (p *jsonParser) key(path string, seen map[string]bool, allowed ...string) (string, error) {
	tok, err := p.token(path)
	if err != nil {
		return "", err
	}
	key, _ := tok.(string) // the decoder only gives strings in key position
	where := key
	if path != "" {
		where = path + "." + key
	}
	known := false
	for _, a := range allowed {
		if a == key {
			known = true
			break
		}
	}
	if !known {
		for _, a := range allowed {
			if strings.EqualFold(a, key) {
				return "", fmt.Errorf("unknown key %q (%s); keys are lower case: %q", where, p.at(), a)
			}
		}
		return "", fmt.Errorf("unknown key %q (%s); allowed here: %s", where, p.at(), strings.Join(allowed, ", "))
	}
	if seen[key] {
		return "", fmt.Errorf("duplicate key %q (%s)", where, p.at())
	}
	seen[key] = true
	return key, nil
}

func (p *jsonParser) str(path string) (string, error) {
	tok, err := p.token(path)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%s: want a string, found %s", path, describe(tok))
	}
	return s, nil
}

func (p *jsonParser) boolean(path string) (bool, error) {
	tok, err := p.token(path)
	if err != nil {
		return false, err
	}
	b, ok := tok.(bool)
	if !ok {
		return false, fmt.Errorf("%s: want true or false, found %s", path, describe(tok))
	}
	return b, nil
}

func (p *jsonParser) token(path string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("%s: %v", path, p.explain(err))
		}
		return nil, p.explain(err)
	}
	return tok, nil
}

// explain turns decoder errors into messages with a line and column.
func (p *jsonParser) explain(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at %s: %s", p.position(se.Offset), strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("JSON ends early: the file is cut short")
	}
	return err
}

func (p *jsonParser) at() string { return p.position(p.dec.InputOffset()) }

// position renders a byte offset as "line L, column C" (both from 1).
func (p *jsonParser) position(off int64) string {
	off = max(0, min(off, int64(len(p.data))))
	before := p.data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case json.Number:
		return "the number " + v.String()
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", rune(v))
	}
	return fmt.Sprintf("%v", tok)
}
