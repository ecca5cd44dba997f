package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/internal/unixsock"
)

// maxAdminBody bounds an admin request (a credential or rehost ticket
// file is at most 256 KiB).
const maxAdminBody = 1 << 20

// HeaderAdminUser names the person behind an admin request, for the audit
// log; the user ID comes from the socket itself.
const HeaderAdminUser = "Licportal-User"

// ListenAdmin makes the admin socket at path, mode 0600, replacing a
// stale one. It refuses when another server answers on it.
func ListenAdmin(path string) (net.Listener, error) {
	// The state directory is 0700, so the socket is private before the
	// chmod too.
	return unixsock.Listen(path, 0o600, "admin socket")
}

type peerKey struct{}

// peerUID returns the user ID of the process at the other end of a unix
// connection, -1 when it cannot be told.
func peerUID(c net.Conn) int {
	cred, err := unixsock.PeerCred(c)
	if err != nil {
		return -1
	}
	return int(cred.Uid)
}

// AdminServer answers Admin calls on the admin socket for processes of the
// same user (or root).
type AdminServer struct {
	admin Admin
	srv   *http.Server
}

// NewAdminServer serves a over the admin socket protocol.
func NewAdminServer(a Admin) *AdminServer {
	s := &AdminServer{admin: a}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/v1/{method}", s.handle)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, peerKey{}, peerUID(c))
		},
	}
	return s
}

// Serve answers on ln until Shutdown.
func (s *AdminServer) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server, letting calls in flight finish.
func (s *AdminServer) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func (s *AdminServer) handle(w http.ResponseWriter, r *http.Request) {
	uid, _ := r.Context().Value(peerKey{}).(int)
	if uid != 0 && uid != os.Getuid() {
		writeAdminError(w, errorf(protocol.CodeForbidden, "uid %d may not administer this portal", uid))
		return
	}
	actor := "admin uid:" + strconv.Itoa(uid)
	if u := r.Header.Get(HeaderAdminUser); validToken(u, 64) {
		actor += " (" + u + ")"
	}
	ctx := WithActor(r.Context(), actor)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		writeAdminError(w, errorf(protocol.CodeTooLarge, "admin request: %v", err))
		return
	}
	out, err := s.dispatch(ctx, r.PathValue("method"), body)
	if err != nil {
		writeAdminError(w, err)
		return
	}
	data, err := json.Marshal(out)
	if err != nil {
		writeAdminError(w, err)
		return
	}
	w.Header().Set("Content-Type", protocol.ContentType)
	w.Write(data)
}

func writeAdminError(w http.ResponseWriter, err error) {
	body, _ := json.Marshal(protocol.ErrorBody{Error: protocol.ErrorDetail{Code: CodeOf(err), Message: err.Error()}})
	w.Header().Set("Content-Type", protocol.ContentType)
	w.WriteHeader(HTTPStatus(CodeOf(err)))
	w.Write(body)
}

// Admin socket method names.
const (
	adminAddSKU     = "add-sku"
	adminSKUs       = "skus"
	adminSeedSKUs   = "seed-skus"
	adminCreatePAKs = "create-paks"
	adminPAK        = "pak"
	adminExtension  = "extension"
	adminDevice     = "device"
	adminResetKey   = "reset-key"
	adminPermission = "permission-ticket"
	adminRehost     = "rehost"
	adminRMA        = "rma"
	adminRedeem     = "redeem"
	adminAudit      = "audit"
	adminStats      = "stats"
)

type adminArg struct {
	Code  string `json:"code,omitempty"`
	UDI   string `json:"udi,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

func decodeAdmin[T any](body []byte) (T, error) {
	var v T
	if err := protocol.Decode(body, &v, true); err != nil {
		return v, errorf(protocol.CodeBadRequest, "admin request: %v", err)
	}
	return v, nil
}

func (s *AdminServer) dispatch(ctx context.Context, method string, body []byte) (any, error) {
	a := s.admin
	switch method {
	case adminAddSKU:
		v, err := decodeAdmin[SKU](body)
		if err != nil {
			return nil, err
		}
		return struct{}{}, a.AddSKU(ctx, v)
	case adminSKUs:
		return a.SKUs(ctx)
	case adminSeedSKUs:
		return a.SeedSKUs(ctx)
	case adminCreatePAKs:
		v, err := decodeAdmin[PAKRequest](body)
		if err != nil {
			return nil, err
		}
		return a.CreatePAKs(ctx, v)
	case adminPAK:
		v, err := decodeAdmin[adminArg](body)
		if err != nil {
			return nil, err
		}
		return a.PAK(ctx, v.Code)
	case adminExtension:
		v, err := decodeAdmin[ExtensionRequest](body)
		if err != nil {
			return nil, err
		}
		return a.IssueExtension(ctx, v)
	case adminDevice:
		v, err := decodeAdmin[adminArg](body)
		if err != nil {
			return nil, err
		}
		return a.Device(ctx, v.UDI)
	case adminResetKey:
		v, err := decodeAdmin[adminArg](body)
		if err != nil {
			return nil, err
		}
		return struct{}{}, a.ResetDeviceKey(ctx, v.UDI)
	case adminPermission:
		v, err := decodeAdmin[PermissionRequest](body)
		if err != nil {
			return nil, err
		}
		return a.PermissionTicket(ctx, v)
	case adminRehost:
		v, err := decodeAdmin[RehostRequest](body)
		if err != nil {
			return nil, err
		}
		return a.Rehost(ctx, v)
	case adminRMA:
		v, err := decodeAdmin[RMARequest](body)
		if err != nil {
			return nil, err
		}
		return a.RMA(ctx, v)
	case adminRedeem:
		v, err := decodeAdmin[OfflineRedeemRequest](body)
		if err != nil {
			return nil, err
		}
		return a.Redeem(ctx, v)
	case adminAudit:
		v, err := decodeAdmin[adminArg](body)
		if err != nil {
			return nil, err
		}
		return a.Audit(ctx, v.Limit)
	case adminStats:
		return a.Stats(ctx)
	}
	return nil, errorf(protocol.CodeNotFound, "no admin method %q", truncate(method))
}

// AdminClient reaches a running licportal serve over its admin socket and
// implements Admin.
type AdminClient struct {
	socket string
	user   string
	hc     *http.Client
}

var _ Admin = (*AdminClient)(nil)

// DialAdmin returns a client for the admin socket at path, or an error if
// nothing answers there (no server is running).
func DialAdmin(path, user string) (*AdminClient, error) {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return nil, err
	}
	c.Close()
	return &AdminClient{socket: path, user: user, hc: &http.Client{
		Timeout: 5 * time.Minute, // creating 100000 PAKs takes a while
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
		},
	}}, nil
}

// Close releases idle connections.
func (c *AdminClient) Close() { c.hc.CloseIdleConnections() }

func (c *AdminClient) call(ctx context.Context, method string, in, out any) error {
	if in == nil {
		in = struct{}{}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://licportal/admin/v1/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", protocol.ContentType)
	if c.user != "" {
		req.Header.Set(HeaderAdminUser, c.user)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb protocol.ErrorBody
		if protocol.Decode(data, &eb, false) != nil || eb.Error.Code == "" {
			return fmt.Errorf("admin socket %s answered %s", c.socket, resp.Status)
		}
		return &Error{Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin socket %s: bad answer: %w", c.socket, err)
	}
	return nil
}

func (c *AdminClient) AddSKU(ctx context.Context, s SKU) error {
	return c.call(ctx, adminAddSKU, s, nil)
}

func (c *AdminClient) SKUs(ctx context.Context) ([]SKU, error) {
	var out []SKU
	return out, c.call(ctx, adminSKUs, nil, &out)
}

func (c *AdminClient) SeedSKUs(ctx context.Context) ([]string, error) {
	var out []string
	return out, c.call(ctx, adminSeedSKUs, nil, &out)
}

func (c *AdminClient) CreatePAKs(ctx context.Context, r PAKRequest) ([]string, error) {
	var out []string
	return out, c.call(ctx, adminCreatePAKs, r, &out)
}

func (c *AdminClient) PAK(ctx context.Context, code string) (*PAKView, error) {
	var out PAKView
	if err := c.call(ctx, adminPAK, adminArg{Code: code}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *AdminClient) IssueExtension(ctx context.Context, r ExtensionRequest) (*IssueResult, error) {
	var out IssueResult
	if err := c.call(ctx, adminExtension, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *AdminClient) Device(ctx context.Context, udi string) (*DeviceView, error) {
	var out DeviceView
	if err := c.call(ctx, adminDevice, adminArg{UDI: udi}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *AdminClient) ResetDeviceKey(ctx context.Context, udi string) error {
	return c.call(ctx, adminResetKey, adminArg{UDI: udi}, nil)
}

func (c *AdminClient) PermissionTicket(ctx context.Context, r PermissionRequest) (*PermissionResult, error) {
	var out PermissionResult
	if err := c.call(ctx, adminPermission, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *AdminClient) Rehost(ctx context.Context, r RehostRequest) (*RehostResult, error) {
	var out RehostResult
	if err := c.call(ctx, adminRehost, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *AdminClient) RMA(ctx context.Context, r RMARequest) (*RMAResult, error) {
	var out RMAResult
	if err := c.call(ctx, adminRMA, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *AdminClient) Redeem(ctx context.Context, r OfflineRedeemRequest) (*protocol.RedeemResponse, error) {
	var out protocol.RedeemResponse
	if err := c.call(ctx, adminRedeem, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *AdminClient) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	return out, c.call(ctx, adminAudit, adminArg{Limit: limit}, &out)
}

func (c *AdminClient) Stats(ctx context.Context) (Stats, error) {
	var out Stats
	return out, c.call(ctx, adminStats, nil, &out)
}
