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
		args:  "bash|zsh|fish",
		short: "print a shell completion script",
		long: `
Prints a completion script for sdpcfg in bash, zsh or fish: commands,
their flags and the global flags, -o values, and key paths one level at a
time (read with 'sdpcfg ls' from the store the current settings name:
/p<TAB> gives /pb/, then its children). Load it with:

  source <(sdpcfg completion bash)        # bash, in ~/.bashrc
  source <(sdpcfg completion zsh)         # zsh, in ~/.zshrc
  sdpcfg completion fish | source         # fish, in config.fish`,
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
	if err := wantArgs("completion", args, 1, 1, "a shell: bash, zsh or fish"); err != nil {
		return err
	}
	o.shell = args[0]
	return nil
}

func (o *completionOptions) validate() error {
	switch o.shell {
	case "bash", "zsh", "fish":
		return nil
	}
	return usagef("completion: shell %q is not supported: use bash, zsh or fish", o.shell)
}

func (o *completionOptions) run(context.Context) error {
	switch o.shell {
	case "zsh":
		return writeZshCompletion(o.g.env.out)
	case "fish":
		return writeFishCompletion(o.g.env.out)
	}
	return writeBashCompletion(o.g.env.out)
}

// writeFishCompletion writes the fish completion script.
func writeFishCompletion(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`# fish completion for sdpcfg; load with: sdpcfg completion fish | source
function __sdpcfg_paths
    set -l cur (commandline -ct)
    string match -q -- '/*' $cur; or return
    set -l dir (string replace -r '/[^/]*$' '' -- $cur)
    test -z "$dir"; and set dir /
    command sdpcfg ls $dir 2>/dev/null
end
complete -c sdpcfg -f
complete -c sdpcfg -n '__fish_use_subcommand' -a '(__sdpcfg_paths)'
complete -c sdpcfg -n 'not __fish_use_subcommand' -a '(__sdpcfg_paths)'
complete -c sdpcfg -s o -l output -x -a 'table json yaml' -d 'output format'
`)
	(&globalOptions{}).flagSet().VisitAll(func(f *pflag.Flag) {
		if f.Name != "output" {
			fmt.Fprintf(&b, "complete -c sdpcfg -l %s -d %q\n", f.Name, firstWords(f.Usage))
		}
	})
	for _, c := range commands() {
		for _, name := range append([]string{c.name}, c.aliases...) {
			fmt.Fprintf(&b, "complete -c sdpcfg -n '__fish_use_subcommand' -a %s -d %q\n", name, c.short)
		}
		ownFlags(c).VisitAll(func(f *pflag.Flag) {
			fmt.Fprintf(&b, "complete -c sdpcfg -n '__fish_seen_subcommand_from %s' -l %s -d %q\n", strings.Join(append([]string{c.name}, c.aliases...), " "), f.Name, firstWords(f.Usage))
		})
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// firstWords shortens a flag's usage for a completion menu.
func firstWords(usage string) string {
	if i := strings.IndexAny(usage, "(;:"); i > 0 {
		usage = usage[:i]
	}
	return strings.TrimSpace(usage)
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

// completionWords returns what the bash and zsh scripts list: the global
// flags, the command names with their aliases, and one case line per
// command with its own flags, written by quote (bash: "...", zsh: (...)).
func completionWords(quote func(flags string) string) (global string, names []string, cases string) {
	var b strings.Builder
	for _, c := range commands() {
		names = append(names, c.name)
		names = append(names, c.aliases...)
		fmt.Fprintf(&b, "    %s) flags=%s ;;\n", strings.Join(append([]string{c.name}, c.aliases...), "|"), quote(strings.Join(flagNames(ownFlags(c)), " ")))
	}
	return strings.Join(flagNames((&globalOptions{}).flagSet()), " "), names, b.String()
}

// writeBashCompletion writes the bash completion script.
func writeBashCompletion(w io.Writer) error {
	global, names, cases := completionWords(func(flags string) string { return fmt.Sprintf("%q", flags) })
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
  local prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [[ "$prev" == -o || "$prev" == --output ]]; then
    COMPREPLY=($(compgen -W "table json yaml" -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags %s" -- "$cur"))
  elif [[ "$cur" == /* ]]; then
    # Key paths, one level at a time: the keys and subtrees (ending in /)
    # of the level being typed; a subtree takes no space after it, so
    # that TAB goes on down.
    local dir="${cur%%/*}"
    COMPREPLY=($(command sdpcfg ls "${dir:-/}" 2>/dev/null | compgen -W "$(cat)" -- "$cur"))
    if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == */ ]]; then
      compopt -o nospace 2>/dev/null
    fi
  fi
}
complete -o default -F _sdpcfg sdpcfg
`, global, strings.Join(names, " "), cases, global)
	return err
}
