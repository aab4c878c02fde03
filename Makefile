# debugmode: make demo runs the main job, make test the tests.
GO       ?= go
PKGS     := ./...
BENCHTIME ?= 1s
COUNT    ?= 6
FUZZTIME ?= 30s
BENCHSTAT := $(shell $(GO) env GOPATH)/bin/benchstat

.PHONY: bench-peers demo test test-floor cross lint staticcheck bench bench-burst bench-proxy bench-exectrace fuzz fuzz-short benchstat-tool

demo:
	$(GO) run ./cmd/demo

# FLOOR is the oldest Go the module supports (go.mod's go directive); the
# go command fetches it through the module proxy as a toolchain module.
FLOOR ?= go1.22.12

test: lint cross fuzz-short test-floor
	$(GO) test -race -count=1 $(PKGS)

# Build, vet and test on the oldest supported Go, so nothing newer slips in;
# the store's tests (a ClickHouse server, debuglog ship) are compiled here
# and run once, in the race run.
test-floor:
	GOTOOLCHAIN=$(FLOOR) $(GO) version
	GOTOOLCHAIN=$(FLOOR) $(GO) vet $(PKGS)
	DEBUGMODE_TEST_CLICKHOUSE=off GOTOOLCHAIN=$(FLOOR) $(GO) test -count=1 $(PKGS)

# Build and vet (tests included) for the other systems the module supports,
# and run the handler's tests on Linux with the log directory those systems
# use (logdir_other.go), which the debugmode_portable tag selects; and
# slogdebug's console built without tint (debugmode_notint, console_notint.go).
CROSS_OS ?= darwin windows freebsd
cross:
	@set -e; for os in $(CROSS_OS); do echo "GOOS=$$os GOARCH=amd64 $(GO) vet $(PKGS)"; GOOS=$$os GOARCH=amd64 $(GO) vet $(PKGS); done
	$(GO) test -count=1 -tags debugmode_portable ./handler
	$(GO) vet -tags debugmode_notint ./slogdebug
	$(GO) test -count=1 -tags debugmode_notint -run '^TestConsoleWithoutTint$$' ./slogdebug

lint:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

# Deeper static analysis (downloads staticcheck through the Go module proxy).
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# A short run of every fuzz target, so make test exercises them past the seeds.
# A count, not a duration: a duration's deadline races the workers on a busy
# machine and fails with "context deadline exceeded" having found nothing
# (go.dev/issue/75804, fixed in Go 1.27).
fuzz-short:
	$(MAKE) --no-print-directory fuzz FUZZTIME=3000x

fuzz:
	$(GO) test ./handler -run '^$$' -fuzz '^FuzzSanitizeCategory$$' -fuzztime $(FUZZTIME)
	$(GO) test ./handler -run '^$$' -fuzz '^FuzzEncode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/redact -run '^$$' -fuzz '^FuzzRedact$$' -fuzztime $(FUZZTIME)
	$(GO) test ./handler -run '^$$' -fuzz '^FuzzParseFileName$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/config -run '^$$' -fuzz '^FuzzParseRate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./slogdebug -run '^$$' -fuzz '^FuzzConfigFromEnv$$' -fuzztime $(FUZZTIME)
	$(GO) test ./slogdebug -run '^$$' -fuzz '^FuzzConsoleWithoutColour$$' -fuzztime $(FUZZTIME)
	$(GO) test ./reqid -run '^$$' -fuzz '^FuzzParseTraceparent$$' -fuzztime $(FUZZTIME)
	$(GO) test ./reqid -run '^$$' -fuzz '^FuzzFromHeaders$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/debuglog -run '^$$' -fuzz '^FuzzReadFile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/debuglog -run '^$$' -fuzz '^FuzzParseStacks$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/debuglog -run '^$$' -fuzz '^FuzzParseCheckpoint$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/debuglog -run '^$$' -fuzz '^FuzzTSV$$' -fuzztime $(FUZZTIME)
	$(GO) test ./integration -run '^$$' -fuzz '^FuzzAceID$$' -fuzztime $(FUZZTIME)

benchstat-tool:
	@test -x $(BENCHSTAT) || $(GO) install golang.org/x/perf/cmd/benchstat@latest

# Benchmarks, side by side with their baselines in one run, summarised by benchstat.
bench: benchstat-tool
	@mkdir -p bench
	$(GO) test -run '^$$' -bench . -benchmem -count $(COUNT) -benchtime $(BENCHTIME) ./handler ./stress ./slogdebug | tee bench/latest.txt
	$(BENCHSTAT) -col /impl bench/latest.txt || $(BENCHSTAT) bench/latest.txt

# Bursts of LogRequest with the default configuration (one goroutine flat
# out, two at once): one op is one whole burst, so each of the COUNT runs
# reports its own dropped-% and written/s.
bench-burst: benchstat-tool
	@mkdir -p bench
	$(GO) test -run '^$$' -bench '^BenchmarkBurst$$' -benchtime 1x -benchmem -count $(COUNT) ./slogdebug | tee bench/burst.txt
	$(BENCHSTAT) bench/burst.txt

# The streaming proxy with debug mode off and on. Loopback TCP is noisy, so
# the two run in separate processes, interleaved, and benchstat compares them.
bench-proxy: benchstat-tool
	@mkdir -p bench
	$(GO) test -c -o bench/integration.test ./integration
	@rm -f bench/proxy.txt
	@for i in $$(seq $(COUNT)); do for m in off on; do \
		bench/integration.test -test.run '^$$' -test.bench "StreamingProxy/debug=$$m" -test.benchtime 200x -test.benchmem | grep '^Bench' | tee -a bench/proxy.txt; \
	done; done
	$(BENCHSTAT) -col /debug bench/proxy.txt

# The acexy fork's request path (Middleware, 15 orchestrator calls through
# WrapClient's client over keep-alive loopback, a 64 KiB stream) without the
# library, with debug mode off and on, each in a process of its own (the
# fake orchestrator and the clients in another), interleaved: the proxy's
# CPU time and the orchestrator's connections per request. benchstat
# compares the runs as wholes; bench/pairs round by round (COUNT rounds).
# busy20us is plain with 20 µs of CPU added to each request: the yardstick
# for what a known cost measures as on this rig.
.PHONY: bench-fork
bench-fork: benchstat-tool
	@mkdir -p bench
	$(GO) test -c -o bench/integration.test ./integration
	@rm -f bench/fork.txt
	@for i in $$(seq $(COUNT)); do for m in plain off on busy20us; do \
		bench/integration.test -test.run '^$$' -test.bench "ForkRequestPath/impl=$$m\$$" -test.benchtime 2000x -test.benchmem | grep '^Bench' | tee -a bench/fork.txt; \
	done; done
	$(BENCHSTAT) -col /impl bench/fork.txt
	$(GO) run ./bench/pairs -key impl -base plain -unit cpu-ns/req,peer-cpu-ns/req,orch-conns/req bench/fork.txt

# The streaming proxy with debug mode on, the execution trace recorder off
# and on (DEBUG_EXECUTION_TRACE), interleaved in separate processes;
# LogRequest's caller cost and one request through Middleware with it off
# and on; benchstat compares them.
bench-exectrace: benchstat-tool
	@mkdir -p bench
	$(GO) test -c -o bench/integration.test ./integration
	@rm -f bench/exectrace-proxy.txt
	@for i in $$(seq $(COUNT)); do for m in off on; do \
		bench/integration.test -test.run '^$$' -test.bench "StreamingProxyExecutionTrace/exectrace=$$m" -test.benchtime 200x -test.benchmem | grep '^Bench' | tee -a bench/exectrace-proxy.txt; \
	done; done
	$(BENCHSTAT) -col /exectrace bench/exectrace-proxy.txt
	$(GO) test -run '^$$' -bench 'LogRequestExecutionTrace' -benchmem -count $(COUNT) -benchtime $(BENCHTIME) ./slogdebug | tee bench/exectrace-logrequest.txt
	$(BENCHSTAT) -col /exectrace bench/exectrace-logrequest.txt
	$(GO) test -run '^$$' -bench 'MiddlewareExecutionTrace' -benchmem -count $(COUNT) -benchtime $(BENCHTIME) ./integration | tee bench/exectrace-middleware.txt
	$(BENCHSTAT) -col /exectrace bench/exectrace-middleware.txt

# debugmode beside its peers (zerolog, zap, slog's JSONHandler), one
# goroutine logging PEERS_N request lines flat out into real files, each
# run in a process of its own, interleaved COUNT times: CPU per written
# line (caller and writer together) and lines lost. LOAD=N keeps N other
# processes spinning meanwhile, as a busy machine would (make bench-peers
# LOAD=2). bench/peers is a module of its own, so the library's go.mod
# never requires the peers. Two more columns bound what a slog handler can
# cost against zerolog, writing no file: zerolog_discard (zerolog into
# io.Discard: zerolog's cost minus the kernel's write) and record_fanout
# (a slog.Record of the line handed through slogmulti.Fanout to handlers
# that do nothing: what this design costs a record before it is encoded).
PEERS_N ?= 1000000
LOAD ?= 0
bench-peers: benchstat-tool
	@mkdir -p bench
	cd bench/peers && $(GO) build -o ../peers.bin .
	@rm -f bench/peers.txt
	@pids=""; for i in $$(seq $(LOAD)); do sh -c 'while :; do :; done' & pids="$$pids $$!"; done; \
	for i in $$(seq $(COUNT)); do for impl in debugmode zerolog zap slog_json zerolog_discard record_fanout; do \
		bench/peers.bin -impl $$impl -n $(PEERS_N) | tee -a bench/peers.txt; \
	done; done; \
	[ -z "$$pids" ] || kill $$pids
	$(BENCHSTAT) -col /impl bench/peers.txt
