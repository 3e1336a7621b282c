package main

import (
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// observeFlags are the observability flags of the commands that run until
// interrupted (server, topology master, netobj run).
type observeFlags struct {
	metricsListen string
	logFormat     string
	logLevel      string
}

func (f *observeFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve /metrics, /healthz and /readyz on this host:port (port 0: any free one); none by default")
	fs.StringVar(&f.logFormat, "log-format", "text", "format of the logs on stderr: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "least level logged: debug, info, warn or error")
}

// validate checks the flags of command cmd.
func (f *observeFlags) validate(cmd string) error {
	if _, err := telemetry.NewLogger(nil, f.logFormat, f.logLevel); err != nil {
		return usagef("%s: --log-format/--log-level: %v", cmd, err)
	}
	if f.metricsListen != "" {
		if _, _, err := net.SplitHostPort(f.metricsListen); err != nil {
			return usagef("%s: --metrics-listen %q: want host:port, such as 127.0.0.1:9464", cmd, f.metricsListen)
		}
	}
	return nil
}

// observer is the running telemetry of a command.
type observer struct {
	reg *prometheus.Registry
	tel config.Telemetry
	ep  *telemetry.Endpoint // nil without --metrics-listen
}

// start makes the command's logger and registry and sets them as g's, so
// that the Config g opens reports to them.
func (f *observeFlags) start(g *globalOptions) *observer {
	log, _ := telemetry.NewLogger(g.env.errOut, f.logFormat, f.logLevel) // checked by validate
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o := &observer{reg: reg, tel: config.Telemetry{Registerer: reg, Logger: log}}
	g.tel = o.tel
	return o
}

// serve starts the endpoint of --metrics-listen, if given, serving what g
// gathers with the readiness checks, and prints where.
func (o *observer) serve(f *observeFlags, g *globalOptions, gather prometheus.Gatherer, checks ...telemetry.Check) error {
	if f.metricsListen == "" {
		return nil
	}
	ep, err := telemetry.Serve(f.metricsListen, gather, checks...)
	if err != nil {
		return err
	}
	o.ep = ep
	fmt.Fprintf(g.env.out, "metrics at http://%s/metrics\n", ep.Addr())
	return nil
}

// close stops the endpoint.
func (o *observer) close() {
	if o.ep != nil {
		o.ep.Close()
	}
}
