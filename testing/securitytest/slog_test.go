package securitytest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry/telemetrytest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// TestStructuredLogsAndMetricsShowNoSecret runs a client over TLS with a
// password, logging at debug level in JSON and counting metrics, through
// a workload that logs (connecting, a refused write, a transaction given
// up, a watcher loop, a lease), and checks that neither the logs nor a
// scrape shows the password or key material, while the logs do name the
// user.
func TestStructuredLogsAndMetricsShowNoSecret(t *testing.T) {
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t, sdptest.WithTLS(), sdptest.WithAuth(rootPassword))
	e.Auth().AddRole(t, "pb-rw", sdptest.ReadWrite, "/pb")
	e.Auth().AddUser(t, "alice", alicePassword, "pb-rw")
	f := e.TLS()
	sec := secrets{rootPassword, alicePassword}
	sec.addKey(t, f.ClientKey)

	logs := &logSink{}
	reg := prometheus.NewRegistry()
	opts := tlsOptions(e, f.CAFile, f.ClientCert, f.ClientKey)
	opts.Username, opts.Password = "alice", alicePassword
	opts.Registerer = reg
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := config.Open(ctx, opts)
	assert.NilError(t, err)
	defer c.Close()

	assert.NilError(t, put(c, t, "/pb/a", "1"))
	err = put(c, t, "/eb/x", "1")
	assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
	// A transaction that conflicts on its only attempt gives up (a warning).
	err = c.Txn(ctx, func(tx *config.Txn) error {
		if _, _, err := tx.Get("/pb/a"); err != nil {
			return err
		}
		if err := put(c, t, "/pb/a", "2"); err != nil {
			return err
		}
		return tx.Put("/pb/a", "3")
	}, txn.WithMaxAttempts(1))
	assert.Assert(t, errors.Is(err, txn.ErrTooManyRetries), "%v", err)
	l, err := c.Lease(ctx, 5*time.Second)
	assert.NilError(t, err)
	assert.NilError(t, l.Close())
	w := c.Watcher(watcher.Options{})
	wctx, cancel := context.WithCancel(ctx)
	_ = w.Run(wctx, func(ctx context.Context, it *config.Iteration) error {
		defer cancel()
		return it.Txn(ctx, func(tx *config.Txn) error { _, _, err := tx.Get("/pb/a"); return err })
	})
	assert.NilError(t, w.Close())
	assert.NilError(t, c.Close())

	text := logs.String()
	sec.check(t, "slog", text)
	assert.Assert(t, strings.Contains(text, `"user":"alice"`), "the connection is not logged: %s", text)
	assert.Assert(t, strings.Contains(text, "txn gave up"), "the give-up is not logged: %s", text)
	var scraped strings.Builder
	for series := range telemetrytest.Scrape(t, reg) {
		scraped.WriteString(series + "\n")
	}
	sec.check(t, "metrics", scraped.String())
}
