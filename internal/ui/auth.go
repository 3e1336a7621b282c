package ui

import (
	"crypto/subtle"
	"net/http"
	"time"
)

const sessionCookie = "sdpcfg_session"

// authorised reports whether r may use the API: always without a
// password, else with a live session cookie.
func (s *Server) authorised(r *http.Request) bool {
	if s.opts.Password == "" {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.sessions[c.Value]
	if ok && time.Now().After(exp) {
		delete(s.sessions, c.Value)
		return false
	}
	return ok
}

// login checks the password of the form and opens a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.opts.Password == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("login: %v", err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("password")), []byte(s.opts.Password)) != 1 {
		s.log.Warn("ui: failed login", "remote", r.RemoteAddr)
		writeError(w, &httpError{http.StatusUnauthorized, "wrong password"})
		return
	}
	id := randomToken()
	s.mu.Lock()
	s.sessions[id] = time.Now().Add(sessionTTL)
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.opts.Secure, MaxAge: int(sessionTTL / time.Second)})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// session answers what the page needs to start: the CSRF token of
// writes, the read-only flag and the store's revision.
func (s *Server) session(r *http.Request) (any, error) {
	rev, err := s.b.Revision(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"csrf": s.csrf, "readOnly": s.opts.ReadOnly, "revision": rev}, nil
}
