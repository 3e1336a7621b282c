package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestUIFlagErrors(t *testing.T) {
	h := newHarness(t)
	wantError(t, h.run("ui", "--listen", "0.0.0.0:8080"), exitUsage, "not a loopback address", "--auth", "--insecure")
	wantError(t, h.run("ui", "--listen", ":8080"), exitUsage, "not a loopback address")
	wantError(t, h.run("ui", "--listen", "8080"), exitUsage, `--listen "8080": want host:port`)
	wantError(t, h.run("ui", "--tls-cert", "c.pem"), exitUsage, "--tls-cert and --tls-key go together")
	wantError(t, h.run("ui", "extra"), exitUsage, "ui: want no arguments")
	wantError(t, h.run("ui", "--auth"), exitUsage, "--auth needs the etcd user's password")
	wantError(t, h.run("ui", "--listen", "127.0.0.1:1", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"), exitError, "/nonexistent.pem")
}

var consoleAt = regexp.MustCompile(`console at (https?://[^/\s]+)/`)

// startUI runs sdpcfg ui with args on the harness until the test ends and
// returns the console's base URL.
func startUI(t *testing.T, h *harness, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- h.env("", &out, &errOut).run(ctx, append([]string{"ui", "--listen", freePort(t)}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, <-done, 0, errOut.String())
	})
	var base string
	sdptest.WaitForValue(t, "sdpcfg ui to print its address", func() (bool, string) {
		m := consoleAt.FindStringSubmatch(out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil, out.String() + errOut.String()
	})
	return base
}

func TestUIServesUntilInterrupted(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/a", `{"x": 1}`)
	base := startUI(t, h, "--read-only")
	resp, err := http.Get(base + "/api/children?path=/pb")
	assert.NilError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusOK)
	req, _ := http.NewRequest("DELETE", base+"/api/key?path=/pb/a&modRevision=1", nil)
	resp2, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	resp2.Body.Close()
	assert.Equal(t, resp2.StatusCode, http.StatusForbidden)
}

func TestUIServesHTTPS(t *testing.T) {
	h := newHarness(t)
	f := sdptest.NewTLSFiles(t)
	base := startUI(t, h, "--tls-cert", f.ServerCert, "--tls-key", f.ServerKey)
	assert.Assert(t, strings.HasPrefix(base, "https://"), base)
	pem, err := os.ReadFile(f.CAFile)
	assert.NilError(t, err)
	pool := x509.NewCertPool()
	assert.Assert(t, pool.AppendCertsFromPEM(pem))
	cli := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := cli.Get(base + "/api/session")
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusOK)
}
