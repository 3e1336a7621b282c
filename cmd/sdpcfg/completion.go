package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// completionCommand is set in init: its script lists the commands, which
// include it.
var completionCommand *command

func init() {
	completionCommand = &command{
		name:  "completion",
		args:  "bash",
		short: "print a shell completion script",
		long: `
Prints a bash completion script for sdpcfg: commands, their flags and the
global flags, and key paths (read with 'sdpcfg ls' from the store the
current settings name). Load it with:

  source <(sdpcfg completion bash)`,
		newRunner: func(g *globalOptions) runner { return &completionOptions{g: g} },
	}
}

// completionOptions are the options of completion.
type completionOptions struct {
	g     *globalOptions
	shell string
}

func (o *completionOptions) addFlags(*pflag.FlagSet) {}

func (o *completionOptions) complete(args []string) error {
	if err := wantArgs("completion", args, 1, 1, "a shell: bash"); err != nil {
		return err
	}
	o.shell = args[0]
	return nil
}

func (o *completionOptions) validate() error {
	if o.shell != "bash" {
		return usagef("completion: shell %q is not supported: use bash", o.shell)
	}
	return nil
}

func (o *completionOptions) run(context.Context) error {
	return writeBashCompletion(o.g.env.out)
}

// flagNames returns the --long and -short names of the flags of fs.
func flagNames(fs *pflag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		names = append(names, "--"+f.Name)
		if f.Shorthand != "" {
			names = append(names, "-"+f.Shorthand)
		}
	})
	return names
}

// writeBashCompletion writes the bash completion script.
func writeBashCompletion(w io.Writer) error {
	global := strings.Join(flagNames((&globalOptions{}).flagSet()), " ")
	var names []string
	var cases strings.Builder
	for _, c := range commands() {
		names = append(names, c.name)
		fmt.Fprintf(&cases, "    %s) flags=%q ;;\n", c.name, strings.Join(flagNames(ownFlags(c)), " "))
	}
	_, err := fmt.Fprintf(w, `# bash completion for sdpcfg; load with: source <(sdpcfg completion bash)
_sdpcfg() {
  local cur="${COMP_WORDS[COMP_CWORD]}" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W %q -- "$cur"))
    else
      COMPREPLY=($(compgen -W %q -- "$cur"))
    fi
    return
  fi
  local flags=""
  case "$cmd" in
%s  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags %s" -- "$cur"))
  elif [[ "$cur" == /* ]]; then
    local dir="${cur%%/*}"
    COMPREPLY=($(sdpcfg ls "${dir:-/}" 2>/dev/null | compgen -W "$(cat)" -- "$cur"))
  fi
}
complete -o default -F _sdpcfg sdpcfg
`, global, strings.Join(names, " "), cases.String(), global)
	return err
}
