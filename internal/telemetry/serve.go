package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one condition of /readyz: Func returns nil when it holds.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// checkTimeout bounds each readiness check.
const checkTimeout = 2 * time.Second

// Handler serves /metrics (what g gathers, in Prometheus' text format),
// /healthz (200 while the process runs) and /readyz (200 when every check
// holds, else 503 with one line per failed check).
func Handler(g prometheus.Gatherer, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		var failed []string
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			err := c.Func(ctx)
			cancel()
			if err != nil {
				failed = append(failed, c.Name+": "+oneLine(err))
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, strings.Join(failed, "\n"))
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// Endpoint is a running HTTP server of Handler.
type Endpoint struct {
	srv  *http.Server
	addr string
	done chan error
}

// Serve listens on addr ("host:port"; port 0 picks a free one) and serves
// Handler(g, checks...) until Close.
func Serve(addr string, g prometheus.Gatherer, checks ...Check) (*Endpoint, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener %s: %w", addr, err)
	}
	e := &Endpoint{
		srv:  &http.Server{Handler: Handler(g, checks...), ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { e.done <- e.srv.Serve(ln) }()
	return e, nil
}

// Addr returns the address the endpoint listens on.
func (e *Endpoint) Addr() string { return e.addr }

// Close stops the server and waits for it to end.
func (e *Endpoint) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	if serr := <-e.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
