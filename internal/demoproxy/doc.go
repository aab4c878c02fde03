// Package demoproxy is a small AceStream proxy, with a fake orchestrator
// and a fake engine, all on loopback: the pieces of `make demo` and of the
// end-to-end tests of package integration. The proxy is written the way a
// real one adopts debugmode: the middleware in front, the orchestrator
// client's wrappers inside.
package demoproxy
