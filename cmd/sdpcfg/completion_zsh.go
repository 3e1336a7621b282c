package main

import (
	"fmt"
	"io"
	"strings"
)

// writeZshCompletion writes the zsh completion script: a native function,
// not the bash one through bashcompinit, whose compgen emulation neither
// reads the keys piped to it nor knows compopt (so subtrees took a space).
func writeZshCompletion(w io.Writer) error {
	global, names, cases := completionWords(func(flags string) string { return "(" + flags + ")" })
	_, err := fmt.Fprintf(w, `#compdef sdpcfg
# zsh completion for sdpcfg; load with: source <(sdpcfg completion zsh)
_sdpcfg() {
  local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}" cmd="" i
  for ((i = 2; i < CURRENT; i++)); do
    [[ "${words[i]}" == -* ]] || { cmd="${words[i]}"; break; }
  done
  if [[ "$prev" == -o || "$prev" == --output ]]; then
    compadd -- table json yaml
    return
  fi
  local -a flags
  case "$cmd" in
%s  esac
  if [[ "$cur" == -* ]]; then
    compadd -- $flags %s
  elif [[ -z "$cmd" ]]; then
    compadd -- %s
  elif [[ "$cur" == /* ]]; then
    # Key paths, one level at a time: a subtree (ending in /) takes no
    # space after it, so that TAB goes on down.
    local dir="${cur%%/*}"
    local -a keys
    keys=(${(f)"$(command sdpcfg ls "${dir:-/}" 2>/dev/null)"})
    compadd -S '' -- ${(M)keys:#*/}
    compadd -- ${keys:#*/}
  else
    _files
  fi
}
if (( ! $+functions[compdef] )); then
  autoload -U +X compinit && compinit
fi
compdef _sdpcfg sdpcfg
`, cases, global, strings.Join(names, " "))
	return err
}
