package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

//go:embed assets
var assets embed.FS

// Options configure a Server.
type Options struct {
	// Config is the store the console shows. Required.
	Config *config.Config
	// ReadOnly refuses every write (403).
	ReadOnly bool
	// Password, when set, is required to log in: a session cookie
	// (HttpOnly, SameSite=Strict) then authorises the API.
	Password string
	// Secure marks the session cookie Secure (the console is served over
	// TLS).
	Secure bool
	// Logger receives the console's logs; nil discards them.
	Logger *slog.Logger
	// Kinds check the values written on their paths (a config.Kind's
	// decoding and Validate method) before the console writes them.
	Kinds []Checker
}

// Checker is a typed path's value check: config.Kind has it. Check
// reports whether path is one of its keys and, if so, why value is not a
// valid one.
type Checker interface {
	Check(path, value string) (bool, error)
}

// Server is the console's HTTP handler. Close ends its event streams.
type Server struct {
	opts Options
	b    backend.Backend
	mux  *http.ServeMux
	csrf string
	log  *slog.Logger

	ctx    context.Context // ends on Close: event streams stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool                 // Close was called: no new event stream
	sessions map[string]time.Time // session id -> expiry
}

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

// New returns the console over opts.Config.
func New(opts Options) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("ui: Options.Config is required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, b: opts.Config.Backend(), mux: http.NewServeMux(), csrf: randomToken(),
		log: telemetry.Logger(opts.Logger), ctx: ctx, cancel: cancel, sessions: map[string]time.Time{}}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	s.mux.Handle("GET /", http.FileServerFS(static))
	s.mux.HandleFunc("POST /login", s.login)
	s.route("GET /api/session", s.session)
	s.route("GET /api/children", s.children)
	s.route("GET /api/key", s.getKey)
	s.route("PUT /api/key", s.write(s.putKey))
	s.route("DELETE /api/key", s.write(s.deleteKey))
	s.route("DELETE /api/tree", s.write(s.deleteTree))
	s.route("GET /api/history", s.history)
	s.mux.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) {
		if !s.authorised(r) {
			writeError(w, errUnauthorised)
			return
		}
		s.events(w, r)
	})
	s.route("GET /api/leases", s.leases)
	s.route("GET /api/cluster", s.cluster)
	s.route("GET /api/controllers", s.controllers)
	return s, nil
}

// Close ends the event streams and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// stream registers an event stream, unless the Server is closed: Close
// waits for the streams it registered.
func (s *Server) stream() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// ServeHTTP implements http.Handler, with the headers every answer
// carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// apiFunc is an API handler: it returns the value to answer in JSON, or
// an error (see httpError).
type apiFunc func(r *http.Request) (any, error)

// route registers an API handler behind the session check.
func (s *Server) route(pattern string, f apiFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !s.authorised(r) {
			writeError(w, errUnauthorised)
			return
		}
		v, err := f(r)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(v)
	})
}

// write wraps a write handler: refused in read-only mode, and without the
// CSRF token or from another origin.
func (s *Server) write(f apiFunc) apiFunc {
	return func(r *http.Request) (any, error) {
		if s.opts.ReadOnly {
			return nil, &httpError{http.StatusForbidden, "the console is read-only (--read-only)"}
		}
		tok := r.Header.Get("X-CSRF-Token")
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) != 1 {
			return nil, &httpError{http.StatusForbidden, "missing or wrong X-CSRF-Token header (reload the page)"}
		}
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				return nil, &httpError{http.StatusForbidden, fmt.Sprintf("write from origin %q refused: not this console's", o)}
			}
		}
		return f(r)
	}
}

var errUnauthorised = &httpError{http.StatusUnauthorized, "log in first: POST /login with the etcd user's password"}

// httpError is an error with its HTTP status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// conflictError answers 409 with the current version of a key.
type conflictError struct {
	msg     string
	Current any `json:"current"`
}

func (e *conflictError) Error() string { return e.msg }

// writeError answers err as {"error": "..."} with its status: 400 for bad
// input, 404 for a missing key, 409 for a conflict, 410 for a compacted
// revision, 502 for a store that failed.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusBadGateway
	body := map[string]any{"error": err.Error()}
	var he *httpError
	var ce *conflictError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.As(err, &ce):
		status = http.StatusConflict
		body["current"] = ce.Current
	case errors.Is(err, backend.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, backend.ErrCompacted):
		status = http.StatusGone
	case errors.Is(err, backend.ErrFutureRevision):
		status = http.StatusBadRequest
	case errors.Is(err, backend.ErrInvalidPath), errors.Is(err, backend.ErrInvalidValue):
		status = http.StatusBadRequest
	case errors.Is(err, backend.ErrPermissionDenied):
		status = http.StatusForbidden
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// badRequest is a 400 error.
func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}
