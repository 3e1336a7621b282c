package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

var editCommand = &command{
	name:  "edit",
	args:  "PATH",
	short: "edit a value in $EDITOR",
	long: `
Opens the value of the key PATH in $VISUAL or $EDITOR (default vi) and
writes it back when the editor exits. A JSON object or array is edited as
YAML and stored back as ska-sdp-config JSON (sorted keys, 2-space indent;
numbers left unchanged keep their exact text); any other value is edited as
plain text.

The value is written back only if nobody changed the key since it was read:
the check and the write are one transaction. If someone did, nothing is
written, the exit code is 4 and your edit is kept in a file the message
names. Saving the file unchanged, or empty, writes nothing.

Examples:
  sdpcfg edit /pb/pb-1
  EDITOR=nano sdpcfg edit /pb/pb-1/state`,
	newRunner: func(g *globalOptions) runner { return &editOptions{g: g} },
}

// editOptions are the options of edit.
type editOptions struct {
	g    *globalOptions
	path string
}

func (o *editOptions) addFlags(*pflag.FlagSet) {}

func (o *editOptions) complete(args []string) error {
	if err := wantArgs("edit", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("edit", args[0], false)
	return err
}

func (o *editOptions) validate() error { return nil }

// editor returns the user's editor command.
func (o *editOptions) editor() string {
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if e := o.g.env.getenv(v); e != "" {
			return e
		}
	}
	return "vi"
}

func (o *editOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	b := c.Backend()
	cctx, cancel := o.g.rpc(ctx)
	kv, _, err := b.Get(cctx, o.path, 0)
	cancel()
	if err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return fmt.Errorf("edit %s: %w (create it with 'sdpcfg create', or see 'sdpcfg ls %s')", o.path, backend.ErrNotFound, path.Dir(o.path))
		}
		return opError("edit", o.path, err)
	}

	orig, isJSON := editableJSON(kv.Value)
	text, ext := kv.Value, ".txt"
	if isJSON {
		y, err := yaml.JSONToYAML([]byte(kv.Value))
		if err != nil {
			return fmt.Errorf("edit %s: converting to YAML: %w", o.path, err)
		}
		text = fmt.Sprintf("# %s at revision %d, as YAML. Save to write it back;\n# an unchanged or empty file writes nothing.\n%s", o.path, kv.ModRevision, y)
		ext = ".yaml"
	}
	f, err := os.CreateTemp("", "sdpcfg-edit-*"+ext)
	if err != nil {
		return fmt.Errorf("edit %s: %w", o.path, err)
	}
	file := f.Name()
	keep := false
	defer func() {
		if !keep {
			os.Remove(file)
		}
	}()
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("edit %s: writing %s: %w", o.path, file, err)
	}

	cmd := exec.CommandContext(ctx, "sh", "-c", o.editor()+` "$1"`, "sdpcfg-editor", file)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.g.env.in, o.g.env.out, o.g.env.errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("edit %s: editor %q failed: %w; nothing written (set $EDITOR to the editor to use)", o.path, o.editor(), err)
	}
	edited, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("edit %s: reading back %s: %w", o.path, file, err)
	}

	var value string
	if isJSON {
		if isBlankYAML(edited) {
			fmt.Fprintf(o.g.env.errOut, "Edit of %s cancelled: the file is empty; nothing written.\n", o.path)
			return nil
		}
		if value, err = fromYAML(edited, orig); err != nil {
			keep = true
			return usagef("edit %s: %v; nothing written; your edit is kept in %s", o.path, err, file)
		}
		if _, obj := orig.(map[string]any); obj && isTyped(o.path) && !strings.HasPrefix(value, "{") {
			keep = true
			return usagef("edit %s: /%s values are JSON objects; nothing written; your edit is kept in %s", o.path, strings.Split(o.path, "/")[1], file)
		}
	} else {
		value = string(edited)
		if !strings.HasSuffix(kv.Value, "\n") {
			value = strings.TrimSuffix(value, "\n") // the newline editors add
		}
		if err := backend.ValidateValue(o.path, value); err != nil {
			keep = true
			return fmt.Errorf("edit %s: %w; your edit is kept in %s", o.path, err, file)
		}
	}
	if value == kv.Value {
		fmt.Fprintf(o.g.env.errOut, "No changes to %s; nothing written.\n", o.path)
		return nil
	}

	cctx, cancel = o.g.rpc(ctx)
	defer cancel()
	res, err := b.Commit(cctx, backend.Txn{
		If:   []backend.Compare{{Range: backend.Key(o.path), Target: backend.ModRevision, Op: backend.Equal, Value: kv.ModRevision}},
		Then: []backend.Op{backend.Put(o.path, value, kv.Lease)},
	})
	if err != nil {
		keep = true
		return fmt.Errorf("edit %s: %w; your edit is kept in %s", o.path, err, file)
	}
	if !res.Succeeded {
		keep = true
		update := "sdpcfg update " + o.path + " - < " + file
		if isJSON {
			update = "sdpcfg update --yaml " + o.path + " - < " + file
		}
		return fmt.Errorf("edit %s: the key %w after revision %d, while you edited it; nothing written; your edit is kept in %s: run 'sdpcfg edit %s' again, or '%s' to write it over the new value", o.path, errConflict, kv.ModRevision, file, o.path, update)
	}
	return printWrite(o.g, "updated", o.path, res.Revision)
}

// editableJSON returns the value decoded if it is a JSON object or array.
func editableJSON(value string) (any, bool) {
	t := strings.TrimSpace(value)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	v, err := parseJSON(value)
	if err != nil {
		return nil, false
	}
	return v, true
}

// isBlankYAML tells whether a YAML text holds only comments and space.
func isBlankYAML(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// fromYAML converts an edited YAML text back to ska-sdp-config JSON. A
// number equal to the one at the same place in orig keeps orig's text, so
// that 1.0, shown as 1 in YAML, stays 1.0.
func fromYAML(edited []byte, orig any) (string, error) {
	j, err := strictYAMLToJSON(edited)
	if err != nil {
		return "", fmt.Errorf("YAML %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("YAML: %w", err)
	}
	return config.Marshal(keepNumbers(orig, v))
}

// keepNumbers returns v with every number that equals the number at the
// same place in orig replaced by orig's.
func keepNumbers(orig, v any) any {
	switch v := v.(type) {
	case map[string]any:
		if o, ok := orig.(map[string]any); ok {
			for k, e := range v {
				if oe, ok := o[k]; ok {
					v[k] = keepNumbers(oe, e)
				}
			}
		}
		return v
	case []any:
		if o, ok := orig.([]any); ok {
			for i := range v {
				if i < len(o) {
					v[i] = keepNumbers(o[i], v[i])
				}
			}
		}
		return v
	case json.Number:
		if o, ok := orig.(json.Number); ok && sameNumber(o, v) {
			return o
		}
	}
	return v
}

// sameNumber tells whether two JSON numbers have the same value.
func sameNumber(a, b json.Number) bool {
	x, _, err1 := big.ParseFloat(string(a), 10, 256, big.ToNearestEven)
	y, _, err2 := big.ParseFloat(string(b), 10, 256, big.ToNearestEven)
	return err1 == nil && err2 == nil && x.Cmp(y) == 0
}
