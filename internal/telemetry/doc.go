// Package telemetry holds what the SDK's packages share to export their
// metrics, traces and logs: latency buckets, registration on a
// user-passed prometheus.Registerer (which may already hold the same
// collectors, from another instance), a tracer that is a no-op without a
// TracerProvider, a logger that discards without one, and the HTTP handler
// behind --metrics-listen. Nothing here registers or logs globally.
package telemetry
