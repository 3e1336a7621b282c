// Command sdpcfg inspects and edits an sdpconfig store: list, read, watch,
// create, update, edit and delete keys, import and export whole trees, run
// an embedded etcd server, and tour the SDK with demo. See docs/cli.md or
// 'sdpcfg --help'.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
