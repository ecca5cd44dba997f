package protocol

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PAK format: 11 characters from 31 symbols (digits and upper-case letters
// but I, L, O, U and Z): 10 random symbols (49 bits) and a check symbol,
// the weighted sum of the others mod 31. As 31 is prime, the check catches
// every single mistyped symbol and every swap of two neighbours.
const (
	PAKLength    = 11
	pakAlphabet  = "0123456789ABCDEFGHJKMNPQRSTVWXY"
	pakRandomLen = PAKLength - 1
	pakModulus   = len(pakAlphabet)
)

// ErrBadPAK is wrapped by NormalizePAK's errors.
var ErrBadPAK = errors.New("invalid PAK")

// NewPAK returns a new random PAK read from r (crypto/rand.Reader when
// nil).
func NewPAK(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [PAKLength]byte
	var one [1]byte
	for i := 0; i < pakRandomLen; {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return "", fmt.Errorf("new PAK: %w", err)
		}
		// Rejection sampling keeps every symbol equally likely.
		if v := int(one[0]); v < 256-256%pakModulus {
			b[i] = pakAlphabet[v%pakModulus]
			i++
		}
	}
	b[pakRandomLen] = pakAlphabet[pakCheck(b[:pakRandomLen])]
	return string(b[:]), nil
}

// pakCheck is the weighted sum of the symbol values mod 31.
func pakCheck(syms []byte) int {
	sum := 0
	for i, c := range syms {
		sum += (i + 1) * strings.IndexByte(pakAlphabet, c)
	}
	return sum % pakModulus
}

// NormalizePAK returns the canonical form of a PAK as a person may type
// it: lower case is accepted, and O, I and L are read as 0, 1 and 1. The
// error names what is wrong (length, a symbol, the check symbol).
func NormalizePAK(s string) (string, error) {
	if len(s) != PAKLength {
		return "", fmt.Errorf("%w %q: a PAK is %d characters, not %d", ErrBadPAK, truncate(s), PAKLength, len(s))
	}
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if strings.IndexByte(pakAlphabet, c) < 0 {
			what := fmt.Sprintf("%q", s[i])
			if c >= 0x80 {
				what = "a non-ASCII byte"
			}
			return "", fmt.Errorf("%w %q: character %d (%s) is not a PAK symbol (digits and letters but I, L, O, U, Z)", ErrBadPAK, s, i+1, what)
		}
		b[i] = c
	}
	if pakAlphabet[pakCheck(b[:pakRandomLen])] != b[pakRandomLen] {
		return "", fmt.Errorf("%w %s: the check character does not match; a character is mistyped", ErrBadPAK, string(b))
	}
	return string(b), nil
}

// truncate keeps error messages about hostile input short.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
