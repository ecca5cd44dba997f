package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// DefaultSocket is the control socket of a device's licensed.
const DefaultSocket = "/run/licensed/licensed.sock"

// SocketPath is $LICENSED_SOCKET, else DefaultSocket.
func SocketPath() string {
	if p := os.Getenv("LICENSED_SOCKET"); p != "" {
		return p
	}
	return DefaultSocket
}

// Client reaches the agent over its control socket and implements API.
type Client struct {
	socket string
	hc     *http.Client
}

var _ API = (*Client)(nil)

// NewClient returns a client for the socket at path.
func NewClient(path string) *Client {
	return &Client{socket: path, hc: &http.Client{
		Timeout: 2 * time.Minute, // call-home may take a while; the daemon bounds it
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
		},
	}}
}

func (c *Client) call(ctx context.Context, method string, req request, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://licensed/v1/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(hr)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e Error
		if json.Unmarshal(data, &e) != nil || e.Cause == "" {
			return Errorf(CauseGeneralFailure, "licensed answered %s", resp.Status)
		}
		return &e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.call(ctx, "status", request{}, &s)
}

func (c *Client) Install(ctx context.Context, req InstallRequest) (*InstallResult, error) {
	var r InstallResult
	return &r, c.call(ctx, "install", request{Install: &req}, &r)
}

func (c *Client) Clear(ctx context.Context, feature string) (*ClearResult, error) {
	var r ClearResult
	return &r, c.call(ctx, "clear", request{Feature: feature}, &r)
}

func (c *Client) SetBootLevel(ctx context.Context, level string) (*BootLevelResult, error) {
	var r BootLevelResult
	return &r, c.call(ctx, "boot-level", request{Level: level}, &r)
}

func (c *Client) AcceptEULA(ctx context.Context) error {
	return c.call(ctx, "accept-eula", request{}, nil)
}

func (c *Client) Comment(ctx context.Context, feature, text string) error {
	return c.call(ctx, "comment", request{Feature: feature, Text: text}, nil)
}

func (c *Client) Save(ctx context.Context) ([]byte, error) {
	var b []byte
	return b, c.call(ctx, "save", request{}, &b)
}

func (c *Client) Credential(ctx context.Context) ([]byte, error) {
	var b []byte
	return b, c.call(ctx, "credential", request{}, &b)
}

func (c *Client) Revoke(ctx context.Context, ticket []byte) (*RevokeResult, error) {
	var r RevokeResult
	return &r, c.call(ctx, "revoke", request{Data: ticket}, &r)
}

func (c *Client) Reload(ctx context.Context) error { return c.call(ctx, "reload", request{}, nil) }

func (c *Client) RunningConfig(ctx context.Context) (string, error) {
	var s string
	return s, c.call(ctx, "running-config", request{}, &s)
}

func (c *Client) History(ctx context.Context, limit int) ([]AuditEntry, error) {
	var r []AuditEntry
	return r, c.call(ctx, "history", request{Limit: limit}, &r)
}

func (c *Client) Acquire(ctx context.Context, feature string, units int) (*CountResult, error) {
	var r CountResult
	return &r, c.call(ctx, "acquire", request{Feature: feature, Units: units}, &r)
}

func (c *Client) Release(ctx context.Context, feature string, units int) (*CountResult, error) {
	var r CountResult
	return &r, c.call(ctx, "release", request{Feature: feature, Units: units}, &r)
}

func (c *Client) CallHome(ctx context.Context, req CallHomeRequest) (*CallHomeResult, error) {
	var r CallHomeResult
	return &r, c.call(ctx, "call-home", request{CallHome: &req}, &r)
}
