package callhome

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/licensestore"
)

// Stages of a revoke.
const (
	stageStart   = ""        // ask the portal for a permission ticket
	stageTicket  = "ticket"  // the device processes the ticket
	stageRevoked = "revoked" // hand the rehost ticket in
)

// pendingOp is an operation kept in the store until it is done. IDs sort
// by creation time, so the store lists them oldest first.
type pendingOp struct {
	ID     string   `json:"id"`
	Op     string   `json:"op"` // install-pak, resend, revoke
	PAK    string   `json:"pak,omitempty"`
	SKUs   []string `json:"skus,omitempty"`
	Qty    int      `json:"qty,omitempty"`
	Target string   `json:"target,omitempty"`
	UDI    string   `json:"udi"`
	// Key is the idempotency key of the redemption or the permission
	// request; RehostKey that of handing the rehost ticket in.
	Key       string `json:"key,omitempty"`
	RehostKey string `json:"rehostKey,omitempty"`
	// A revoke's progress.
	Stage    string   `json:"stage,omitempty"`
	Ticket   string   `json:"ticket,omitempty"`
	TicketID string   `json:"ticketId,omitempty"`
	Licenses []string `json:"licenses,omitempty"`
	Rehost   string   `json:"rehost,omitempty"`
	Grace    []string `json:"grace,omitempty"`

	Actor     string    `json:"actor,omitempty"` // who asked, for the audit log of retries
	Created   time.Time `json:"created"`
	Next      time.Time `json:"next"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
}

// describe is one line of show license call-home.
func (op *pendingOp) describe() string {
	what := op.Op
	switch op.Op {
	case "install-pak":
		what += " " + op.PAK
		if len(op.SKUs) > 0 {
			what += " sku " + strings.Join(op.SKUs, ",")
		}
		if op.Qty > 0 {
			what += fmt.Sprintf(" qty %d", op.Qty)
		}
	case "revoke":
		what += " to " + op.Target
		if op.Stage != stageStart {
			what += " (" + map[string]string{stageTicket: "permission ticket " + op.TicketID + " received", stageRevoked: "licenses revoked, rehost ticket to hand in"}[op.Stage] + ")"
		}
	}
	s := fmt.Sprintf("%s: attempts %d, next try %s", what, op.Attempts, op.Next.UTC().Format("Jan 02 2006 15:04:05 UTC"))
	if op.LastError != "" {
		s += "; last error: " + op.LastError
	}
	return s
}

func loadPending(tx *licensestore.Tx) ([]*pendingOp, error) {
	var ops []*pendingOp
	err := tx.Pending(func(id string, raw []byte) error {
		op := new(pendingOp)
		if err := json.Unmarshal(raw, op); err != nil {
			return fmt.Errorf("pending call-home operation %s is damaged: %w", id, err)
		}
		ops = append(ops, op)
		return nil
	})
	return ops, err
}

// newOpID sorts by creation time: 16 hex digits of Unix nanoseconds, then
// 8 random ones.
func (c *Client) newOpID(now time.Time) (string, error) {
	var b [4]byte
	if _, err := io.ReadFull(c.cfg.Rand, b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%016x-%s", now.UnixNano(), hex.EncodeToString(b[:])), nil
}

// start validates an operation, keeps it in the store (or finds the same
// one already pending) and runs it now.
func (c *Client) start(ctx context.Context, dev agent.Device, req agent.CallHomeRequest) (*agent.CallHomeResult, error) {
	udis := dev.UDIs()
	if len(udis) == 0 {
		return nil, agent.Errorf(agent.CauseGeneralFailure, "the device has no UDI")
	}
	pak := ""
	switch req.Op {
	case "install-pak":
		var err error
		if pak, err = protocol.NormalizePAK(req.PAK); err != nil {
			return nil, agent.Errorf(agent.CauseInvalidArgument, "%v", err)
		}
		if req.Qty < 0 || req.Qty > protocol.MaxQty {
			return nil, agent.Errorf(agent.CauseInvalidArgument, "quantity %d: want 1 to %d", req.Qty, protocol.MaxQty)
		}
		if len(req.SKUs) > protocol.MaxSKUsPerRequest {
			return nil, agent.Errorf(agent.CauseInvalidArgument, "%d SKUs; at most %d", len(req.SKUs), protocol.MaxSKUsPerRequest)
		}
		for i, s := range req.SKUs {
			if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) || slices.Contains(req.SKUs[:i], s) {
				return nil, agent.Errorf(agent.CauseInvalidArgument, "SKU %q is not a valid SKU name or is named twice", truncate(s, 64))
			}
		}
	case "revoke":
		if err := license.ValidateUDI(req.Target); err != nil {
			return nil, agent.Errorf(agent.CauseInvalidArgument, "target: %v", err)
		}
		if slices.Contains(udis, req.Target) {
			return nil, agent.Errorf(agent.CauseInvalidArgument, "target %s is a UDI of this device; give the UDI of the device the licenses move to", req.Target)
		}
	}
	if c.currentURL(dev) == "" {
		return nil, agent.Errorf(agent.CauseUnavailable, "no call-home URL is set: configure one with 'license call-home url URL' (or licensed --portal)")
	}
	now := c.cfg.Clock.Now().Round(0)
	var op *pendingOp
	err := dev.Store().Update(func(tx *licensestore.Tx) error {
		op = nil
		ops, err := loadPending(tx)
		if err != nil {
			return err
		}
		for _, o := range ops {
			if same(o, req, pak) {
				op = o
				return nil
			}
			if o.Op == "revoke" && req.Op == "revoke" {
				return agent.Errorf(agent.CauseInvalidArgument, "a revoke to %s is pending (%s); it must finish first", o.Target, o.describe())
			}
		}
		op = &pendingOp{Op: req.Op, PAK: pak, SKUs: slices.Clone(req.SKUs), Qty: req.Qty, Target: req.Target, UDI: udis[0],
			Actor: agent.ActorFrom(ctx).Name, Created: now, Next: now}
		if op.ID, err = c.newOpID(now); err != nil {
			return err
		}
		if op.Op != "resend" {
			if op.Key, err = c.token(); err != nil {
				return err
			}
		}
		if op.Op == "revoke" {
			if op.RehostKey, err = c.token(); err != nil {
				return err
			}
		}
		return tx.PutPending(op.ID, op)
	})
	if err != nil {
		var ae *agent.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, agent.Errorf(agent.CauseInvalidLicenseStore, "invalidLicenseStore: could not keep the call-home request: %v", err)
	}
	if !c.claim(op.ID) {
		return nil, agent.Errorf(agent.CauseUnavailable, "the same request is being sent to the portal right now (%s); see show license call-home", op.describe())
	}
	defer c.release(op.ID)
	res, _, err := c.runOp(ctx, dev, op)
	return res, err
}

// runOp runs a claimed pending operation once and then removes it (done,
// or refused) or schedules its next try at op.Next (kept).
func (c *Client) runOp(ctx context.Context, dev agent.Device, op *pendingOp) (res *agent.CallHomeResult, kept bool, err error) {
	res, err = c.execute(ctx, dev, op)
	now := c.cfg.Clock.Now().Round(0)
	if err == nil {
		c.finish(dev, op, now, true, "ok: "+res.Message, "", nil)
		return res, false, nil
	}
	f := asFailure(err)
	if f.transient && now.Sub(op.Created) < c.cfg.Retry.MaxAge {
		op.Attempts++
		op.LastError = f.msg
		delay := max(c.backoff(op.Attempts), f.retryAfter)
		op.Next = now.Add(delay)
		c.finish(dev, op, now, f.answered, "retrying: "+f.msg, f.cause, op)
		c.cfg.Logf("call-home: %s: %s; next try in %s", op.Op, f.msg, delay.Round(time.Second))
		return nil, true, &agent.Error{Cause: f.cause, Message: fmt.Sprintf("%s; the request is kept and retried automatically (next try at %s; show license call-home)",
			f.msg, op.Next.UTC().Format("15:04:05 UTC"))}
	}
	msg := f.msg
	if f.transient {
		msg = fmt.Sprintf("gave up after %d attempts over %s: %s", op.Attempts+1, now.Sub(op.Created).Round(time.Minute), msg)
	}
	c.finish(dev, op, now, f.answered, "failed: "+msg, f.cause, nil)
	c.cfg.Logf("call-home: %s: %s", op.Op, msg)
	return nil, false, &agent.Error{Cause: f.cause, Message: msg}
}

// finish records the outcome: keep (the operation to retry) or remove it,
// the last contact and result, and an audit entry when it ends (cause is
// empty on success).
func (c *Client) finish(dev agent.Device, op *pendingOp, now time.Time, answered bool, result string, cause agent.Cause, keep *pendingOp) {
	err := dev.Store().Update(func(tx *licensestore.Tx) error {
		var st state
		if _, err := tx.Get(keyState, &st); err != nil {
			return err
		}
		if answered {
			st.LastContact = now
		}
		st.LastResult = op.Op + " " + result
		if err := tx.Put(keyState, st); err != nil {
			return err
		}
		if keep != nil {
			return tx.PutPending(op.ID, keep)
		}
		if err := tx.DeletePending(op.ID); err != nil {
			return err
		}
		res, detail := "ok", ""
		if cause != "" {
			res, detail = string(cause), result
		}
		target := op.PAK
		if op.Op == "revoke" {
			target = op.Target
		}
		_, err := tx.AppendAudit(licensestore.AuditRecord{Time: now, Actor: op.Actor, Source: "call-home",
			Action: "call-home " + op.Op, Target: target, Result: res, Detail: truncate(detail, 400)})
		return err
	})
	if err != nil {
		c.cfg.Logf("call-home: recording the outcome of %s: %v", op.Op, err)
	}
}

// backoff is the wait before attempt n+1, with a random half of it jitter.
func (c *Client) backoff(n int) time.Duration {
	r := c.cfg.Retry
	d := float64(r.Initial) * math.Pow(r.Factor, float64(max(n-1, 0)))
	d = math.Min(d, float64(r.Max))
	return time.Duration(d/2 + d/2*r.Jitter())
}

// saveStage keeps a revoke's progress before the next step.
func saveStage(dev agent.Device, op *pendingOp) error {
	if err := dev.Store().Update(func(tx *licensestore.Tx) error { return tx.PutPending(op.ID, op) }); err != nil {
		return &failure{transient: true, cause: agent.CauseInvalidLicenseStore, msg: "could not keep the call-home progress: " + err.Error()}
	}
	return nil
}

// execute does the network and device work of an operation.
func (c *Client) execute(ctx context.Context, dev agent.Device, op *pendingOp) (*agent.CallHomeResult, error) {
	base := c.currentURL(dev)
	switch op.Op {
	case "install-pak":
		var a redeemAnswer
		if err := c.post(ctx, dev, base, protocol.PathRedeem, protocol.RedeemRequest{PAK: op.PAK, SKUs: op.SKUs, Qty: op.Qty}, &a, op.Key); err != nil {
			return nil, err
		}
		inst, err := c.install(ctx, dev, op, a.LicenseFiles, "call-home PAK "+op.PAK)
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, s := range a.Redeemed {
			parts = append(parts, fmt.Sprintf("%s x%d (%d left)", printable(s.Name, 64), s.Qty, s.Remaining))
		}
		return &agent.CallHomeResult{Message: fmt.Sprintf("PAK %s redeemed for %s: %s", op.PAK, op.UDI, strings.Join(parts, ", ")), Install: inst}, nil
	case "resend":
		var a resendAnswer
		if err := c.post(ctx, dev, base, protocol.PathResend, protocol.ResendRequest{}, &a, ""); err != nil {
			return nil, err
		}
		if len(a.LicenseFiles) == 0 {
			return &agent.CallHomeResult{Message: "The licensing portal holds no licenses for " + strings.Join(dev.UDIs(), ", ")}, nil
		}
		inst, err := c.install(ctx, dev, op, a.LicenseFiles, "call-home resend")
		if err != nil {
			return nil, err
		}
		return &agent.CallHomeResult{Message: fmt.Sprintf("The licensing portal sent %d license(s)", len(a.LicenseIDs)), Install: inst}, nil
	case "revoke":
		return c.revoke(ctx, dev, base, op)
	}
	return nil, fmt.Errorf("pending operation %s has unknown kind %q", op.ID, op.Op)
}

// retryCtx carries the actor of a retried operation for the agent's audit
// log.
func retryCtx(ctx context.Context, op *pendingOp) context.Context {
	if _, ok := ctx.Value(retryKey{}).(bool); !ok {
		return ctx
	}
	name := op.Actor
	if name == "" {
		name = "system"
	}
	return agent.WithActor(ctx, agent.Actor{Name: name, Source: "call-home retry", Privilege: agent.PrivAdmin})
}

type retryKey struct{}

// install installs license files through the agent, which verifies them
// as any license file: signature, UDI, catalog.
func (c *Client) install(ctx context.Context, dev agent.Device, op *pendingOp, files []string, source string) (*agent.InstallResult, error) {
	ctx = retryCtx(ctx, op)
	total := &agent.InstallResult{}
	for _, f := range files {
		r, err := dev.Install(ctx, agent.InstallRequest{Data: []byte(f), Source: source})
		if err != nil {
			ae := asFailure(err)
			if ae.cause == agent.CauseInvalidLicenseStore {
				return nil, &failure{transient: true, cause: ae.cause, msg: "the licenses came but could not be stored: " + ae.msg}
			}
			return nil, &failure{cause: ae.cause, msg: fmt.Sprintf("the licensing portal sent licenses this device does not accept: %s; once the cause is fixed, 'license call-home resend' fetches them again", ae.msg)}
		}
		total.Lines = append(total.Lines, r.Lines...)
		total.Installed += r.Installed
		total.Existing += r.Existing
		total.Failed += r.Failed
	}
	return total, nil
}

// revoke moves the device's licenses to op.Target: permission ticket in,
// licenses revoked on the device, rehost ticket out. Each step is kept in
// the store before the next, so an interrupted revoke resumes where it
// stopped and never processes a ticket twice.
func (c *Client) revoke(ctx context.Context, dev agent.Device, base string, op *pendingOp) (*agent.CallHomeResult, error) {
	if op.Stage == stageStart {
		var a permissionAnswer
		if err := c.post(ctx, dev, base, protocol.PathPermission, protocol.PermissionRequest{Target: op.Target}, &a, op.Key); err != nil {
			return nil, err
		}
		pt, err := license.ParsePermissionTicket([]byte(a.Ticket))
		if err != nil {
			return nil, &failure{transient: true, cause: agent.CausePortalUnreachable, msg: "the licensing portal sent a permission ticket that does not parse: " + err.Error()}
		}
		op.Stage, op.Ticket, op.TicketID, op.Licenses = stageTicket, a.Ticket, pt.ID, pt.LicenseIDs
		if err := saveStage(dev, op); err != nil {
			return nil, err
		}
	}
	if op.Stage == stageTicket {
		installed := dev.InstalledIDs()
		held := 0
		for _, id := range op.Licenses {
			if slices.Contains(installed, id) {
				held++
			}
		}
		switch {
		case held == len(op.Licenses):
			r, err := dev.Revoke(retryCtx(ctx, op), []byte(op.Ticket))
			if err != nil {
				f := asFailure(err)
				return nil, &failure{cause: f.cause, msg: "the device refused permission ticket " + op.TicketID + ": " + f.msg}
			}
			op.Rehost, op.Grace = string(r.Ticket), r.Grace
		case held == 0:
			// The device processed the ticket but the rehost ticket was not
			// kept with the operation: the agent keeps its last one.
			rt, err := lastRehostTicket(dev, op.TicketID)
			if err != nil {
				return nil, err
			}
			op.Rehost = rt
		default:
			return nil, &failure{cause: agent.CauseInvalidPermissionTicket, msg: fmt.Sprintf("permission ticket %s names %d licenses but only %d are installed; nothing was revoked", op.TicketID, len(op.Licenses), held)}
		}
		op.Stage = stageRevoked
		if err := saveStage(dev, op); err != nil {
			return nil, err
		}
	}
	var a rehostAnswer
	if err := c.post(ctx, dev, base, protocol.PathRehost, protocol.RehostRequest{RehostTicket: op.Rehost, Target: op.Target}, &a, op.RehostKey); err != nil {
		if f := asFailure(err); !f.transient {
			// The licenses are gone from this device and the portal will
			// not move them: the rehost ticket is the only proof left, so
			// the operator gets it to hand in by other means.
			f.msg += "\nThe licenses are revoked on this device. Give this rehost ticket to the portal's administrator (licportal rehost --rehost-ticket FILE):\n" + op.Rehost
			return nil, f
		}
		return nil, err
	}
	msg := fmt.Sprintf("Licenses %s moved to %s as %s; on %s, 'license call-home resend' installs them",
		strings.Join(op.Licenses, ", "), op.Target, strings.Join(printableAll(a.Issued), ", "), op.Target)
	if len(op.Grace) > 0 {
		msg += fmt.Sprintf("\nGrace period licenses installed here: %s", strings.Join(op.Grace, ", "))
	}
	return &agent.CallHomeResult{Message: msg}, nil
}

// lastRehostTicket returns the agent's last rehost ticket if it answers
// the permission ticket tid.
func lastRehostTicket(dev agent.Device, tid string) (string, error) {
	var raw []byte
	var ok bool
	err := dev.Store().View(func(tx *licensestore.Tx) error {
		var err error
		ok, err = tx.Get(keyRehost, &raw)
		return err
	})
	if err != nil {
		return "", &failure{transient: true, cause: agent.CauseInvalidLicenseStore, msg: "reading the last rehost ticket: " + err.Error()}
	}
	if ok {
		if rt, err := license.ParseRehostTicket(raw); err == nil && rt.PermissionTicketID == tid {
			return string(raw), nil
		}
	}
	return "", &failure{cause: agent.CauseInvalidRehostTicket, msg: fmt.Sprintf("the licenses of permission ticket %s are no longer installed and no rehost ticket for it is kept", tid)}
}

// Run retries pending operations until ctx ends: each when its time
// comes, and at once after Do queued one. cmd/licensed runs it after the
// agent is up.
func (c *Client) Run(ctx context.Context, dev agent.Device) {
	if err := c.loadURL(dev); err != nil {
		c.cfg.Logf("call-home: reading the URL from the store: %v", err)
	}
	ctx = context.WithValue(ctx, retryKey{}, true)
	// A start (or a reload) is a good moment to try everything once.
	force := true
	for {
		next := c.retryDue(ctx, dev, force)
		force = false
		var timer <-chan time.Time
		if !next.IsZero() {
			timer = c.cfg.Clock.After(max(next.Sub(c.cfg.Clock.Now()), time.Second))
		}
		select {
		case <-ctx.Done():
			return
		case <-timer:
		case <-c.wake:
		}
	}
}

// RetryDue runs, oldest first, every pending operation whose time has
// come and that is not running already, and returns when the next one is
// due (zero when none is pending).
func (c *Client) RetryDue(ctx context.Context, dev agent.Device) time.Time {
	return c.retryDue(ctx, dev, false)
}

// retryDue is RetryDue; with all, every operation not running is tried.
func (c *Client) retryDue(ctx context.Context, dev agent.Device, all bool) time.Time {
	var ops []*pendingOp
	if err := dev.Store().View(func(tx *licensestore.Tx) error {
		var err error
		ops, err = loadPending(tx)
		return err
	}); err != nil {
		c.cfg.Logf("call-home: reading pending operations: %v", err)
		return c.cfg.Clock.Now().Add(c.cfg.Retry.Max)
	}
	if _, ok := ctx.Value(retryKey{}).(bool); !ok {
		ctx = context.WithValue(ctx, retryKey{}, true)
	}
	var next time.Time
	for _, op := range ops {
		if ctx.Err() != nil {
			return time.Time{}
		}
		if !all && op.Next.After(c.cfg.Clock.Now()) || !c.claim(op.ID) {
			if next.IsZero() || op.Next.Before(next) {
				next = op.Next
			}
			continue
		}
		res, kept, err := c.runOp(ctx, dev, op)
		c.release(op.ID)
		if err == nil {
			c.cfg.Logf("call-home: pending %s done: %s", op.Op, res.Message)
		}
		if kept && (next.IsZero() || op.Next.Before(next)) {
			next = op.Next
		}
	}
	return next
}
