package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"slices"
	"strconv"
	"time"

	"github.com/licensed-dev/licensed/internal/unixsock"
	"golang.org/x/sys/unix"
)

// maxRequest bounds a control request: a license file plus JSON overhead.
const maxRequest = 1 << 20

// ServerConfig configures the control socket.
type ServerConfig struct {
	// AdminGroup is a group whose members may change things, beside root
	// and the daemon's own user ("" = none).
	AdminGroup string
}

// Server serves the API as HTTP/JSON on a unix socket. The caller's uid,
// read with SO_PEERCRED, decides its privilege.
type Server struct {
	api      API
	adminGID int
	srv      *http.Server
}

type peerKey struct{}

// NewServer makes the control server for api.
func NewServer(api API, cfg ServerConfig) (*Server, error) {
	s := &Server{api: api, adminGID: -1}
	if cfg.AdminGroup != "" {
		g, err := user.LookupGroup(cfg.AdminGroup)
		if err != nil {
			return nil, fmt.Errorf("admin group: %w", err)
		}
		s.adminGID, _ = strconv.Atoi(g.Gid)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/{method}", s.handle)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute, // a client that keeps a connection open costs nothing for ever
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, peerKey{}, s.actorOf(c))
		},
	}
	return s, nil
}

// Listen makes the socket at path (replacing a stale one), readable and
// writable by everyone: privilege is decided per caller, not by file mode.
func Listen(path string) (net.Listener, error) {
	return unixsock.Listen(path, 0o666, "control socket")
}

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server, letting requests in flight finish.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// actorOf identifies the peer of a unix connection.
func (s *Server) actorOf(c net.Conn) Actor {
	a := Actor{Name: "unknown", Source: "socket", Privilege: PrivRead}
	cred, err := unixsock.PeerCred(c)
	if err != nil || cred == nil {
		return a
	}
	a.Name = "uid:" + strconv.Itoa(int(cred.Uid))
	a.Source = "socket pid " + strconv.Itoa(int(cred.Pid))
	if cred.Uid == 0 || int(cred.Uid) == os.Getuid() || s.inAdminGroup(cred) {
		a.Privilege = PrivAdmin
	}
	return a
}

func (s *Server) inAdminGroup(cred *unix.Ucred) bool {
	if s.adminGID < 0 {
		return false
	}
	if int(cred.Gid) == s.adminGID {
		return true
	}
	u, err := user.LookupId(strconv.Itoa(int(cred.Uid)))
	if err != nil {
		return false
	}
	gids, err := u.GroupIds()
	return err == nil && slices.Contains(gids, strconv.Itoa(s.adminGID))
}

// request is the union of every method's parameters.
type request struct {
	Feature  string           `json:"feature,omitempty"`
	Text     string           `json:"text,omitempty"`
	Level    string           `json:"level,omitempty"`
	Data     []byte           `json:"data,omitempty"`
	Install  *InstallRequest  `json:"install,omitempty"`
	Units    int              `json:"units,omitempty"`
	Limit    int              `json:"limit,omitempty"`
	CallHome *CallHomeRequest `json:"callHome,omitempty"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	actor, _ := r.Context().Value(peerKey{}).(Actor)
	ctx := WithActor(r.Context(), actor)
	var req request
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRequest)).Decode(&req); err != nil {
		writeErr(w, Errorf(CauseInvalidArgument, "bad request: %v", err))
		return
	}
	var (
		out any
		err error
	)
	switch r.PathValue("method") {
	case "status":
		out, err = s.api.Status(ctx)
	case "install":
		if req.Install == nil {
			err = Errorf(CauseInvalidArgument, "install: no file")
			break
		}
		out, err = s.api.Install(ctx, *req.Install)
	case "clear":
		out, err = s.api.Clear(ctx, req.Feature)
	case "boot-level":
		out, err = s.api.SetBootLevel(ctx, req.Level)
	case "accept-eula":
		err = s.api.AcceptEULA(ctx)
	case "comment":
		err = s.api.Comment(ctx, req.Feature, req.Text)
	case "save":
		out, err = s.api.Save(ctx)
	case "credential":
		out, err = s.api.Credential(ctx)
	case "revoke":
		out, err = s.api.Revoke(ctx, req.Data)
	case "reload":
		err = s.api.Reload(ctx)
	case "running-config":
		out, err = s.api.RunningConfig(ctx)
	case "history":
		out, err = s.api.History(ctx, req.Limit)
	case "acquire":
		out, err = s.api.Acquire(ctx, req.Feature, req.Units)
	case "release":
		out, err = s.api.Release(ctx, req.Feature, req.Units)
	case "call-home":
		if req.CallHome == nil {
			err = Errorf(CauseInvalidArgument, "call-home: no operation")
			break
		}
		out, err = s.api.CallHome(ctx, *req.CallHome)
	default:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(Errorf(CauseInvalidArgument, "unknown method %q", r.PathValue("method")))
		return
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func writeErr(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Cause: CauseGeneralFailure, Message: err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	code := http.StatusUnprocessableEntity
	if e.Cause == CauseAuthorization {
		code = http.StatusForbidden
	}
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(e)
}
