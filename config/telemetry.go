package config

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is where a Config and what is built on it (its Watchers, the
// controllers of entities/*) report: Options.Registerer,
// Options.TracerProvider and Options.Logger. A nil field reports nothing.
type Telemetry struct {
	Registerer     prometheus.Registerer
	TracerProvider trace.TracerProvider
	Logger         *slog.Logger
}

// Telemetry returns the Config's telemetry options, for the components
// built on it to report to the same registry, tracer and logger.
func (c *Config) Telemetry() Telemetry { return c.tel }
