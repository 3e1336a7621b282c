package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/internal/telemetry/telemetrytest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	assert.NilError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return resp.StatusCode, string(b)
}

// TestEndpointServesMetricsHealthAndReadiness serves a registry with a
// readiness check that fails, then holds.
func TestEndpointServesMetricsHealthAndReadiness(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := telemetry.Registry{Reg: reg}
	r.Counter("sdpconfig_test_total", "A test counter.").Add(3)
	assert.NilError(t, r.Err)
	var ready atomic.Bool
	ep, err := telemetry.Serve("127.0.0.1:0", reg, telemetry.Check{Name: "lease", Func: func(context.Context) error {
		if ready.Load() {
			return nil
		}
		return errors.New("lease not held\nsecond line")
	}})
	assert.NilError(t, err)
	defer ep.Close()
	base := "http://" + ep.Addr()

	got := telemetrytest.Get(t, base+"/metrics")
	assert.Equal(t, got["sdpconfig_test_total"], 3.0)
	code, body := get(t, base+"/healthz")
	assert.Equal(t, code, http.StatusOK)
	assert.Equal(t, body, "ok\n")
	code, body = get(t, base+"/readyz")
	assert.Equal(t, code, http.StatusServiceUnavailable)
	assert.Equal(t, body, "lease: lease not held; second line\n")
	ready.Store(true)
	code, _ = get(t, base+"/readyz")
	assert.Equal(t, code, http.StatusOK)
}

func TestServeRefusesABusyAddress(t *testing.T) {
	ep, err := telemetry.Serve("127.0.0.1:0", prometheus.NewRegistry())
	assert.NilError(t, err)
	defer ep.Close()
	_, err = telemetry.Serve(ep.Addr(), prometheus.NewRegistry())
	assert.ErrorContains(t, err, "metrics listener "+ep.Addr())
}

func TestNewLoggerNamesTheBadValue(t *testing.T) {
	var b strings.Builder
	l, err := telemetry.NewLogger(&b, "json", "debug")
	assert.NilError(t, err)
	l.Debug("hello", "path", "/a")
	assert.Assert(t, strings.Contains(b.String(), `"path":"/a"`), b.String())
	_, err = telemetry.NewLogger(&b, "xml", "info")
	assert.Error(t, err, `log format "xml": want text or json`)
	_, err = telemetry.NewLogger(&b, "text", "loud")
	assert.Error(t, err, `log level "loud": want debug, info, warn or error`)
}
