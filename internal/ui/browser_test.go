package ui_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/ui"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "copy the browser tests' screenshots into docs/img")

// browser is a headless Chromium on a console over an embedded etcd.
type browser struct {
	t    *testing.T
	ctx  context.Context
	c    *config.Config
	b    backend.Backend
	url  string
	dir  string // screenshots
	shot int
}

// newBrowser starts an embedded etcd, a console over it, and Debian's
// chromium driven by chromedp.
func newBrowser(t *testing.T) *browser {
	if testing.Short() {
		t.Skip("starts etcd and a browser")
	}
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("needs Debian's chromium (apt-get install chromium; .ci/run installs it)")
	}
	e := sdptest.NewEtcd(t)
	ctx := sdptest.Context(t)
	c, err := config.Open(ctx, config.Options{Endpoints: e.Endpoints()})
	assert.NilError(t, err)
	t.Cleanup(func() { c.Close() })
	u, err := ui.New(ui.Options{Config: c})
	assert.NilError(t, err)
	srv := httptest.NewServer(u)
	t.Cleanup(func() { u.Close(); srv.Close() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first run starts the browser, for the life of bctx; later steps
	// run on contexts derived from it with their own bound.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("browser: starting %s: %v", path, err)
	}
	return &browser{t: t, ctx: bctx, c: c, b: c.Backend(), url: srv.URL, dir: t.TempDir()}
}

// stepBound bounds one step of a browser test (a click and what it shows,
// well under a second when all is well), so that a step that never ends
// fails with what it awaited in minutes on a loaded machine, not at the
// test binary's deadline.
const stepBound = 2 * time.Minute

// run runs actions, failing the test with what was awaited.
func (br *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	br.t.Helper()
	ctx, cancel := context.WithTimeout(br.ctx, min(stepBound, sdptest.Patience(br.t)))
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		br.t.Fatalf("browser: %s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](br *browser, expr string) T {
	br.t.Helper()
	v, err := chromedp.Run(br.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		br.t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves the page as NAME.png in the test's directory (and in
// docs/img with -update-screenshots).
func (br *browser) screenshot(name string) {
	br.t.Helper()
	png, err := chromedp.Run(br.ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	assert.NilError(br.t, err, "screenshot %s", name)
	file := filepath.Join(br.dir, "ui-"+name+".png")
	assert.NilError(br.t, os.WriteFile(file, png, 0o644))
	if *updateScreenshots {
		assert.NilError(br.t, os.WriteFile(filepath.Join("..", "..", "docs", "img", "ui-"+name+".png"), png, 0o644))
	}
	br.t.Logf("screenshot %s", file)
}

func (br *browser) put(path, value string) int64 {
	br.t.Helper()
	res, err := br.b.Commit(br.ctx, backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
	assert.NilError(br.t, err)
	return res.Revision
}

// textJS is the expression of the visible text of the element sel.
func textJS(sel string) string {
	return fmt.Sprintf("(document.querySelector(%q) || {}).innerText || ''", sel)
}

// text returns the text of the element sel.
func (br *browser) text(sel string) string {
	br.t.Helper()
	return eval[string](br, textJS(sel))
}

// waitText waits until the text of sel contains want.
func (br *browser) waitText(sel, want string) {
	br.t.Helper()
	sdptest.WaitForValueWithin(br.t, stepBound, fmt.Sprintf("%s to show %q", sel, want), func() (bool, string) {
		s, err := chromedp.Run(br.ctx, chromedp.Evaluate[string](textJS(sel)))
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(s, want), s
	})
}

func node(path string) string { return fmt.Sprintf(`.node[data-path=%q] > .row`, path) }

// TestBrowserTreeLiveEditConflictHistoryTimeTravel drives the console in
// headless Chromium through an operator's session.
func TestBrowserTreeLiveEditConflictHistoryTimeTravel(t *testing.T) {
	br := newBrowser(t)
	early := br.put("/pb/pb-1", `{"id": "pb-1", "workflow": {"type": "batch", "version": "0.1"}, "parameters": {"n": 4, "on": true}}`)
	br.put("/pb/pb-1/state", `{"status": "RUNNING"}`)
	br.put("/pb/pb-2", `{"id": "pb-2"}`)
	br.put("/eb/eb-1", `{"id": "eb-1", "max_length": 3600.0}`)

	// The tree, level by level: paths, not depth-prefixed keys.
	br.run("open the console", chromedp.Navigate(br.url), chromedp.WaitVisible(chromedp.CSS(node("/pb"))))
	br.run("expand /pb", chromedp.Click(chromedp.CSS(node("/pb"))), chromedp.WaitVisible(chromedp.CSS(node("/pb/pb-1"))))
	br.run("open /pb/pb-1", chromedp.Click(chromedp.CSS(node("/pb/pb-1"))), chromedp.WaitVisible(chromedp.CSS("#key")))
	br.waitText("#value", `"workflow"`)
	assert.Equal(t, br.text("#key-path"), "/pb/pb-1")
	br.screenshot("tree")

	// Live: a key written by the SDK appears without reload, and the open
	// value follows a change.
	br.put("/pb/pb-3", `{"id": "pb-3"}`)
	br.run("see /pb/pb-3 appear", chromedp.WaitVisible(chromedp.CSS(node("/pb/pb-3"))))
	br.put("/pb/pb-1", `{"id": "pb-1", "changed": "by the SDK"}`)
	br.waitText("#value", "by the SDK")
	br.waitText("#revision", "rev ")

	// Edit while another writer gets there first: the conflict dialog
	// shows both, and writing mine over theirs works.
	br.run("edit", chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(chromedp.CSS("#editor")),
		chromedp.SetValue(chromedp.CSS("#editor"), `{"id": "pb-1", "mine": true}`))
	br.put("/pb/pb-1", `{"id": "pb-1", "theirs": true}`)
	br.run("save", chromedp.Click(chromedp.CSS("#save")), chromedp.WaitVisible(chromedp.CSS("#conflict")))
	br.waitText("#conflict-theirs", `"theirs"`)
	br.waitText("#conflict-yours", `"mine"`)
	br.screenshot("conflict")
	br.run("write mine over theirs", chromedp.Click(chromedp.CSS("#retry")), chromedp.WaitNotVisible(chromedp.CSS("#conflict")))
	br.waitText("#value", `"mine"`)
	kv, _, err := br.b.Get(br.ctx, "/pb/pb-1", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, `{"id": "pb-1", "mine": true}`)

	// History and a diff of the last two versions.
	br.run("history", chromedp.Click(chromedp.CSS("#history-btn")), chromedp.WaitVisible(chromedp.CSS("#history-table tbody tr")))
	br.run("diff", chromedp.Click(chromedp.CSS("#diff-btn")), chromedp.WaitVisible(chromedp.CSS("#diff")))
	br.waitText("#diff-a", `"theirs"`)
	br.waitText("#diff-b", `"mine"`)
	br.screenshot("history")

	// The whole tree at the first revision: pb-3 did not exist yet.
	br.run("time travel", chromedp.SetValue(chromedp.CSS("#at-rev"), fmt.Sprint(early)), chromedp.Click(chromedp.CSS("#at-rev-go")),
		chromedp.WaitVisible(chromedp.CSS("#banner")))
	br.waitText("#banner", fmt.Sprintf("revision %d", early))
	br.run("expand /pb at the old revision", chromedp.WaitVisible(chromedp.CSS(node("/pb"))), chromedp.Click(chromedp.CSS(node("/pb"))),
		chromedp.WaitVisible(chromedp.CSS(node("/pb/pb-1"))))
	n := eval[int](br, `document.querySelectorAll('.node[data-path^="/pb/"]').length`)
	assert.Equal(t, n, 1, "at revision %d only /pb/pb-1 existed", early)
	br.run("open the old value", chromedp.Click(chromedp.CSS(node("/pb/pb-1"))))
	br.waitText("#value", `"batch"`)
	br.screenshot("time-travel")

	// A compacted revision says so.
	assert.NilError(t, br.b.Compact(br.ctx, early+1))
	br.run("travel to a compacted revision", chromedp.SetValue(chromedp.CSS("#at-rev"), fmt.Sprint(early)), chromedp.Click(chromedp.CSS("#at-rev-go")))
	br.waitText("#banner", "compacted")
	br.run("back to live", chromedp.Click(chromedp.CSS("#at-rev-live")), chromedp.WaitNotVisible(chromedp.CSS("#banner")))
}

// TestBrowserShowsScriptValuesAsText stores values that would run as
// HTML and checks that the page shows them as text and runs nothing.
func TestBrowserShowsScriptValuesAsText(t *testing.T) {
	br := newBrowser(t)
	evil := `<script>window.pwned=1</script><img src=x onerror="window.pwned=2">`
	br.put("/pb/xss", fmt.Sprintf(`{"html": %q}`, evil))
	tagPath := "/pb/<img src=x onerror=window.pwned=4>"
	br.put(tagPath, "<script>window.pwned=3</script>")
	br.run("open", chromedp.Navigate(br.url), chromedp.WaitVisible(chromedp.CSS(node("/pb"))),
		chromedp.Click(chromedp.CSS(node("/pb"))), chromedp.WaitVisible(chromedp.CSS(node("/pb/xss"))),
		chromedp.Click(chromedp.CSS(node("/pb/xss"))))
	br.waitText("#value", "<script>window.pwned=1</script>")
	br.run("open the raw one", chromedp.Click(chromedp.CSS(node(tagPath))))
	br.waitText("#value", "<script>window.pwned=3</script>")
	br.waitText(node(tagPath), "<img src=x")
	br.run("history of it", chromedp.Click(chromedp.CSS("#history-btn")), chromedp.WaitVisible(chromedp.CSS("#history-table tbody tr")))
	pwned := eval[bool](br, `window.pwned !== undefined || document.querySelector('#value script, #tree img, #history script') !== null`)
	assert.Assert(t, !pwned, "a value ran or was parsed as HTML")
	br.screenshot("script-as-text")
}

// TestBrowserOtherPages opens the leases, controllers and cluster pages.
func TestBrowserOtherPages(t *testing.T) {
	br := newBrowser(t)
	blocks := config.MustKind[map[string]any]("/pb")
	assert.NilError(t, br.c.Txn(br.ctx, func(tx *config.Txn) error {
		if err := blocks.Create(tx, "pb-1", map[string]any{"id": "pb-1"}); err != nil {
			return err
		}
		return blocks.TakeOwnership(tx, "pb-1", config.OwnerInfo{})
	}))
	br.put("/topology/desired/host-1", `{"topology_id": "lab", "spec": {}, "version_hash": "abc", "generation": 2}`)
	br.run("owner badge", chromedp.Navigate(br.url), chromedp.WaitVisible(chromedp.CSS(node("/pb"))),
		chromedp.Click(chromedp.CSS(node("/pb"))), chromedp.WaitVisible(chromedp.CSS(node("/pb/pb-1"))),
		chromedp.Click(chromedp.CSS(node("/pb/pb-1"))), chromedp.WaitVisible(chromedp.CSS("#owner")))
	br.waitText("#owner", "alive")
	br.waitText("#owner", "TTL")
	br.screenshot("owner")
	br.run("leases", chromedp.Navigate(br.url+"/#/leases"), chromedp.WaitVisible(chromedp.CSS("#leases tbody tr")))
	br.waitText("#leases", "/pb/pb-1/owner")
	br.screenshot("leases")
	br.run("controllers", chromedp.Navigate(br.url+"/#/controllers"), chromedp.WaitVisible(chromedp.CSS("#ctl-topology tbody tr")))
	br.waitText("#ctl-topology", "host-1")
	br.screenshot("controllers")
	br.run("cluster", chromedp.Navigate(br.url+"/#/cluster"), chromedp.WaitVisible(chromedp.CSS("#cluster tbody tr")))
	br.waitText("#cluster", "leader")
	br.screenshot("cluster")
}

// TestBrowserKeepsNumbersAsStored shows and saves a value with a float
// written as 3600.0 and an integer beyond JavaScript's precision: both
// stay exactly as stored.
func TestBrowserKeepsNumbersAsStored(t *testing.T) {
	br := newBrowser(t)
	stored := "{\n  \"big\": 12345678901234567890,\n  \"max_length\": 3600.0\n}"
	br.put("/eb/eb-1", stored)
	br.run("open", chromedp.Navigate(br.url), chromedp.WaitVisible(chromedp.CSS(node("/eb"))),
		chromedp.Click(chromedp.CSS(node("/eb"))), chromedp.WaitVisible(chromedp.CSS(node("/eb/eb-1"))),
		chromedp.Click(chromedp.CSS(node("/eb/eb-1"))))
	br.waitText("#value", "3600.0")
	br.waitText("#value", "12345678901234567890")
	rev := br.put("/eb/other", "{}")
	br.run("edit and save unchanged", chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(chromedp.CSS("#editor")),
		chromedp.Click(chromedp.CSS("#save")), chromedp.WaitNotVisible(chromedp.CSS("#editor")))
	sdptest.WaitForValue(t, "the save to commit", func() (bool, string) {
		kv, _, err := br.b.Get(br.ctx, "/eb/eb-1", 0)
		if err != nil {
			return false, err.Error()
		}
		return kv.ModRevision > rev, kv.Value
	})
	kv, _, err := br.b.Get(br.ctx, "/eb/eb-1", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, stored)
}
