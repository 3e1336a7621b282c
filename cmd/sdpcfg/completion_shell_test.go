package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// zshCompleter types command lines into an interactive zsh on a real
// terminal, with sdpcfg's completion loaded, and returns what TAB made of
// them.
type zshCompleter struct {
	t     *testing.T
	zsh   string
	bin   string
	env   []string
	setup string // the completion script
}

// newZshCompleter returns a completer, or skips the test without zsh.
func newZshCompleter(t *testing.T, bin string, env []string, script string) *zshCompleter {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh not installed (apt-get install zsh): cannot run the zsh completion")
	}
	f := filepath.Join(t.TempDir(), "c.zsh")
	assert.NilError(t, os.WriteFile(f, []byte(script), 0o600))
	return &zshCompleter{t: t, zsh: zsh, bin: bin, env: env, setup: f}
}

// complete types line, a TAB and "END", runs it, and returns the words
// the command got: "get /pb/END" when the completion added "b/" and no
// space to "get /p".
func (z *zshCompleter) complete(line string) string {
	t := z.t
	t.Helper()
	m, s := openPTY(t)
	home := t.TempDir()
	cmd := exec.Command(z.zsh, "-f", "-i")
	cmd.Env = append(append([]string(nil), z.env...), "PATH="+filepath.Dir(z.bin)+":"+os.Getenv("PATH"), "HOME="+home, "ZDOTDIR="+home, "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	assert.NilError(t, cmd.Start())
	s.Close() // zsh has its own: when it ends, reads of m fail and the reader stops
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(done)
		cmd.Process.Kill()
		cmd.Wait()
		wg.Wait()
	}()
	// The command line runs a function of the same name that prints its
	// words; the completion itself runs the binary (command sdpcfg).
	fmt.Fprintf(m, "source %s; sdpcfg() { print -r -- \"ARGS[$*]\" }\n", z.setup)
	fmt.Fprintf(m, "%s\tEND\n", line)
	fmt.Fprintf(m, "exit\n")
	want := regexp.MustCompile(`ARGS\[([^\]]*)\]`)
	lines := make(chan string)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(lines)
		sc := bufio.NewScanner(m)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()
	timeout := time.After(waitBound(t))
	var seen strings.Builder
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("zsh ended without running %q: it printed %q", line, seen.String())
			}
			seen.WriteString(l + "\n")
			if m := want.FindStringSubmatch(l); m != nil && !strings.Contains(l, "print -r") {
				return m[1]
			}
		case <-timeout:
			t.Fatalf("zsh did not run %q in time: it printed %q", line, seen.String())
		}
	}
}

// fishComplete returns the candidates fish's own complete -C gives for
// line, one per line without descriptions, with sdpcfg's completion loaded.
func fishComplete(t *testing.T, bin string, env []string, script, line string) string {
	t.Helper()
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish not installed (apt-get install fish): cannot run the fish completion")
	}
	f := filepath.Join(t.TempDir(), "c.fish")
	assert.NilError(t, os.WriteFile(f, []byte(script), 0o600))
	cmd := exec.Command(fish, "--no-config", "-c", fmt.Sprintf("source %s; complete -C %q", f, line))
	home := t.TempDir()
	cmd.Env = append(append([]string(nil), env...), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home)
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, string(out))
	var words []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		w, _, _ := strings.Cut(l, "\t")
		words = append(words, w)
	}
	return strings.Join(words, " ")
}
