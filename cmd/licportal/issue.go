package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/licensed-dev/licensed/cmd/licportal/internal/statedir"
	"github.com/licensed-dev/licensed/license"
	"github.com/spf13/cobra"
)

// Defaults of issue's --days when it is not given.
const (
	defaultMeteredDays      = 60  // usage time of metered licenses, as built-in evaluations
	defaultSubscriptionDays = 365 // calendar length of a paid subscription
	day                     = 24 * time.Hour
)

type issueOptions struct {
	stateDir string
	udi      string
	feature  string
	typ      string
	count    int
	days     int
	comment  string
	version  string
	addition string
}

func newIssueCmd(e *env) *cobra.Command {
	o := &issueOptions{}
	cmd := &cobra.Command{
		Use:   "issue --state-dir DIR --udi PID:SN --feature F [flags]",
		Short: "Sign a license for one device and print the license file",
		Long: fmt.Sprintf(`issue signs one license, node-locked to --udi, with the portal's key and
prints the license file on standard output.

--days is the usage time of metered types (evaluation, extension, gracePeriod,
evalRightToUse; default %d) or the calendar length of a paidSubscription
(default %d, starting now); other types take no --days. --addition defaults to
exclusive, or additive when --count is given. Feature names are checked on the
device against its platform's catalog, not here.`, defaultMeteredDays, defaultSubscriptionDays),
		Example: "  licportal issue --state-dir /var/lib/licportal --udi WS-C3750E-24TD-S:FDO1234X0AB --feature ipservices > ipservices.lic",
		Args:    cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			return runIssue(cmd, e, o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.udi, "udi", "", "UDI of the device, PID:SN (required)")
	f.StringVar(&o.feature, "feature", "", "feature name, a lowercase token such as ipservices (required)")
	f.StringVar(&o.typ, "type", string(license.Permanent), "license type: "+typeList())
	f.IntVar(&o.count, "count", 0, fmt.Sprintf("units of a counted feature, 0 to %d (0: uncounted)", license.MaxCount))
	f.IntVar(&o.days, "days", 0, "days of use (metered types) or calendar days (paidSubscription)")
	f.StringVar(&o.comment, "comment", "", fmt.Sprintf("comment carried in the license, at most %d bytes", license.MaxCommentLen))
	f.StringVar(&o.version, "version", "1.0", "feature version")
	f.StringVar(&o.addition, "addition", "", "how counts combine: exclusive or additive")
	for _, name := range []string{"state-dir", "udi", "feature"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runIssue(cmd *cobra.Command, e *env, o *issueOptions) error {
	l, err := o.license(e.Now())
	if err != nil {
		return err
	}
	d, err := statedir.New(o.stateDir)
	if err != nil {
		return &usageError{err}
	}
	signer, err := d.LoadSigner()
	if err != nil {
		return err
	}
	if err := signer.Sign(l); err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(license.Encode(l))
	return err
}

// license builds the unsigned license the flags describe, or a usage error
// naming the flag at fault.
func (o *issueOptions) license(now time.Time) (*license.License, error) {
	if err := license.ValidateUDI(o.udi); err != nil {
		return nil, usagef("--udi: %v", err)
	}
	if !validFeature(o.feature) {
		return nil, usagef("--feature %q: want a lowercase token of letters, digits, '_', '.' or '-' (e.g. ipservices)", o.feature)
	}
	typ := license.Type(o.typ)
	if !typ.Valid() {
		return nil, usagef("--type %q: want one of %s", o.typ, typeList())
	}
	if o.count < 0 || o.count > license.MaxCount {
		return nil, usagef("--count %d: want 0 to %d", o.count, license.MaxCount)
	}
	addition := license.Addition(o.addition)
	switch {
	case addition == "" && o.count > 0:
		addition = license.Additive
	case addition == "":
		addition = license.Exclusive
	case addition != license.Exclusive && addition != license.Additive:
		return nil, usagef("--addition %q: want exclusive or additive", o.addition)
	}
	id, err := newLicenseID()
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Second)
	l := &license.License{
		ID: id, Feature: o.feature, Version: o.version, Type: typ, UDI: o.udi,
		Count: o.count, Addition: addition, Comment: o.comment, Issued: now,
	}
	maxDays := int(license.MaxPeriod / day)
	switch {
	case o.days < 0 || o.days > maxDays:
		return nil, usagef("--days %d: want 1 to %d", o.days, maxDays)
	case typ.Metered():
		l.Period = time.Duration(orDefault(o.days, defaultMeteredDays)) * day
	case typ == license.PaidSubscription:
		l.Start = now
		l.End = now.AddDate(0, 0, orDefault(o.days, defaultSubscriptionDays))
	case o.days != 0:
		return nil, usagef("--days does not apply to type %s (only to metered types and paidSubscription)", typ)
	}
	if err := l.Validate(); err != nil {
		var fe *license.FieldError
		if errors.As(err, &fe) {
			return nil, usagef("%s: %s", flagOf(fe.Field), fe.Msg)
		}
		return nil, &usageError{err}
	}
	return l, nil
}

// flagOf names the flag a license field comes from.
func flagOf(field string) string {
	switch field {
	case "period", "start", "end":
		return "--days"
	case "feature", "version", "type", "udi", "count", "addition", "comment":
		return "--" + field
	}
	return field
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// validFeature: a lowercase token, 1 to 128 characters.
func validFeature(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		lower := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !lower && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// newLicenseID is 16 random hex digits.
func newLicenseID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("license id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func typeList() string {
	s := ""
	for i, t := range license.Types {
		if i > 0 {
			s += ", "
		}
		s += string(t)
	}
	return s
}
