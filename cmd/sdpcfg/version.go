package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
	etcdversion "go.etcd.io/etcd/api/v3/version"
)

var versionCommand = &command{
	name:  "version",
	short: "print the version of sdpcfg",
	long: `
Prints the version of sdpcfg (its module version and VCS revision when
built from a checkout), the Go version and the etcd version it is built
with.`,
	newRunner: func(g *globalOptions) runner { return &versionOptions{g: g} },
}

// versionOptions are the options of version.
type versionOptions struct{ g *globalOptions }

func (o *versionOptions) addFlags(*pflag.FlagSet) {}

func (o *versionOptions) complete(args []string) error {
	return wantArgs("version", args, 0, 0, "no arguments")
}

func (o *versionOptions) validate() error { return nil }

// versionItem is what version prints.
type versionItem struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Go       string `json:"go"`
	Etcd     string `json:"etcd"`
}

func (o *versionOptions) run(context.Context) error {
	v := versionItem{Version: "(devel)", Go: runtime.Version(), Etcd: etcdversion.Version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Revision = s.Value
			}
		}
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeOne)
	p.print(v, func(w io.Writer) {
		fmt.Fprintf(w, "sdpcfg %s", v.Version)
		if v.Revision != "" {
			fmt.Fprintf(w, " (%s)", v.Revision)
		}
		fmt.Fprintf(w, "\ngo %s, etcd %s\n", v.Go, v.Etcd)
	})
	return p.end()
}
