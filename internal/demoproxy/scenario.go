package demoproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Scenario is the demo's scripted load: normal traffic, a burst of slow
// starts beside long streams and one that stalls, a period of trouble on
// the orchestrator (its VPN drops, so provisioning is blocked for longer
// than a client waits, 30s: those clients have their 503 at once; after
// five failures its circuit breaker opens and stays open for BreakerOpen
// after the VPN is back, an ETA within the clients' patience: they wait for
// it and play), slow provisioning as it recovers, and normal traffic
// again. The client's retry policy is the library's default, with real
// waits.
type Scenario struct {
	Log *slogdebug.Logger

	// Requests is the number of normal requests, split before and after the
	// trouble. Default 3000.
	Requests int
	// Workers is how many clients run at once. Default 16.
	Workers int
	// SlowStreams are started at once during the slow phase, each waiting
	// SlowStreamDuration for its first byte (default 12 of 5.5s: above the
	// 5s threshold, and more than 10 in a minute), beside as many long
	// streams that play for SlowStreamDuration from their first byte at
	// once (no slow request: a stream is long by nature).
	SlowStreams        int
	SlowStreamDuration time.Duration
	// StallDuration is how long one stream of the slow phase stalls
	// halfway through (default 6s: above the 5s stall threshold).
	StallDuration time.Duration
	// BreakerOpen is how long the circuit breaker stays open, and so the
	// trouble lasts; its ETA is this, rounded up to the second. Default 3s.
	BreakerOpen time.Duration
	// TroubleRequests are the requests sent during the trouble, spread over
	// BreakerOpen. Default Requests/20, at least 20.
	TroubleRequests int
	// SlowProvision is how long provisioning answers take while the
	// orchestrator recovers (default 2.5s: a slow engine selection).
	SlowProvision time.Duration
	// HealthInterval is how often the proxy polls the orchestrator.
	// Default 200ms.
	HealthInterval time.Duration
	// Progress, when set, is called as requests complete.
	Progress func(done, total int64, phase string)
	// OrchestratorDir, when set, is where the fake orchestrator writes its
	// own debug files, in the real orchestrator's format: the matched
	// sample that debuglog correlate lines up with the proxy's.
	OrchestratorDir string
}

// Report is what a scenario run did.
type Report struct {
	Requests  int64
	ByStatus  map[int]int64
	Failed    int64 // requests that got no answer
	Duration  time.Duration
	ProxyAddr string
	// OrchestratorSession is the session ID of the orchestrator's debug
	// files ("" without them).
	OrchestratorSession string
}

func (s *Scenario) defaults() {
	if s.Requests <= 0 {
		s.Requests = 3000
	}
	if s.Workers <= 0 {
		s.Workers = 16
	}
	if s.SlowStreams <= 0 {
		s.SlowStreams = 12
	}
	if s.SlowStreamDuration <= 0 {
		s.SlowStreamDuration = 5500 * time.Millisecond
	}
	if s.StallDuration <= 0 {
		s.StallDuration = 6 * time.Second
	}
	if s.BreakerOpen <= 0 {
		s.BreakerOpen = 3 * time.Second
	}
	if s.SlowProvision <= 0 {
		s.SlowProvision = 2500 * time.Millisecond
	}
	if s.TroubleRequests <= 0 {
		s.TroubleRequests = max(s.Requests/20, 20)
	}
	if s.HealthInterval <= 0 {
		s.HealthInterval = 200 * time.Millisecond
	}
}

// Run starts the engine, the orchestrator and the proxy on loopback, runs
// the load, and shuts everything down. It does not close s.Log.
func (s *Scenario) Run(ctx context.Context) (Report, error) {
	s.defaults()
	start := time.Now()
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	serve := func(h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(ln) }()
		closers = append(closers, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			<-done
		})
		return ln.Addr().String(), nil
	}
	newTransport := func() *http.Transport {
		tr := &http.Transport{MaxIdleConnsPerHost: s.Workers * 2, DisableCompression: true}
		closers = append(closers, tr.CloseIdleConnections)
		return tr
	}

	engineAddr, err := serve(Engine{})
	if err != nil {
		return Report{}, err
	}
	host, portStr, _ := net.SplitHostPort(engineAddr)
	port, _ := strconv.Atoi(portStr)
	orch := NewOrchestrator(host, port)
	var orchSession string
	if s.OrchestratorDir != "" {
		if err := orch.WriteDebugFiles(s.OrchestratorDir); err != nil {
			return Report{}, fmt.Errorf("the orchestrator's debug files: %w", err)
		}
		orchSession = orch.DebugSession()
		closers = append(closers, func() { _ = orch.CloseDebugFiles() })
	}
	breakerETA := int((s.BreakerOpen + time.Second - 1) / time.Second)
	orch.SetBreakerThreshold(5, breakerETA)
	orch.SetSlowProvisioning(min(2*time.Second, s.SlowProvision*4/5))
	orchAddr, err := serve(orch)
	if err != nil {
		return Report{}, err
	}
	client, err := integration.New("http://"+orchAddr, s.Log, integration.Options{
		APIKey:     "demo-api-key",
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: newTransport()}})
	if err != nil {
		return Report{}, err
	}
	proxy := &Proxy{Orch: client, Log: s.Log, EngineClient: &http.Client{Transport: newTransport()}}
	proxyAddr, err := serve(integration.Middleware(s.Log, "/ace/status")(proxy))
	if err != nil {
		return Report{}, err
	}
	monitor := client.MonitorHealth(ctx, s.HealthInterval)
	closers = append(closers, monitor.Stop)

	load := &loader{base: "http://" + proxyAddr, client: &http.Client{Transport: newTransport(), Timeout: time.Minute},
		byStatus: map[int]int64{}, progress: s.Progress}
	before, after := s.Requests/2, s.Requests-s.Requests/2
	load.total.Store(int64(s.Requests + 2*s.SlowStreams + 1 + s.Requests/20 + s.TroubleRequests + 1))

	// 1. Normal traffic.
	if err := load.run(ctx, "normal", before, s.Workers, "size=65536"); err != nil {
		return Report{}, err
	}
	// 2. A burst of slow starts (engines prebuffering: the first byte
	// after SlowStreamDuration), as many long streams that start at once,
	// one stream that stalls halfway, and normal traffic beside them.
	var wg sync.WaitGroup
	chunks := 12
	delay := s.SlowStreamDuration / time.Duration(chunks-1)
	stream := func(path string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load.one(ctx, "slow starts, long streams", path)
		}()
	}
	for i := range s.SlowStreams {
		stream(fmt.Sprintf("/ace/getstream?id=slow%03d&size=%d&chunk=4096&wait=%s", i, chunks*4096, s.SlowStreamDuration))
		stream(fmt.Sprintf("/ace/getstream?id=long%03d&size=%d&chunk=4096&delay=%s", i, chunks*4096, delay))
	}
	stream(fmt.Sprintf("/ace/getstream?id=stall000&size=%d&chunk=4096&delay=%s&stall=%s", chunks*4096, delay, s.StallDuration))
	if err := load.run(ctx, "slow starts, long streams", s.Requests/20, s.Workers/2, "size=65536"); err != nil {
		return Report{}, err
	}
	wg.Wait()
	// 3. Trouble: the VPN drops, provisioning is blocked for 30s, beyond
	// the clients' patience: they have their 503 at once. After five
	// failures the circuit breaker opens (the orchestrator is degraded);
	// the VPN comes back, the breaker stays open for BreakerOpen, an ETA
	// the clients wait for. Requests keep arriving, spread over the phase.
	orch.RemoveEngines()
	orch.SetVPNDown(true)
	breakerCtx, cancel := context.WithTimeout(ctx, s.BreakerOpen)
	loaded := make(chan struct{})
	workers := max(s.Workers/2, 1)
	every := s.BreakerOpen * time.Duration(workers) / time.Duration(s.TroubleRequests)
	go func() { // no new request once the phase is over; those under way finish
		defer close(loaded)
		_ = load.runPaced(ctx, breakerCtx.Done(), "VPN down, breaker open", s.TroubleRequests, workers, every, "size=65536")
	}()
	select {
	case <-orch.BreakerOpened():
	case <-breakerCtx.Done():
	}
	orch.SetCircuitBreaker(true, breakerETA) // already open, unless too few requests failed
	orch.SetVPNDown(false)
	<-breakerCtx.Done() // the breaker stays open for BreakerOpen, however soon the load is done
	cancel()
	// 4. It closes: the clients waiting for it get their engines. Then
	// provisioning is slow while the orchestrator recovers.
	orch.SetCircuitBreaker(false, 0)
	<-loaded
	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	orch.RemoveEngines() // the recovery request provisions
	orch.SetProvisionDelay(s.SlowProvision)
	load.one(ctx, "recovery", "/ace/getstream?id=recovery&size=65536")
	orch.SetProvisionDelay(0)
	// 5. Normal traffic again.
	if err := load.run(ctx, "normal", after, s.Workers, "size=65536"); err != nil {
		return Report{}, err
	}
	return Report{Requests: load.done.Load(), ByStatus: load.statuses(), Failed: load.failed.Load(),
		Duration: time.Since(start), ProxyAddr: proxyAddr, OrchestratorSession: orchSession}, ctx.Err()
}

// loader sends requests to the proxy and counts the answers.
type loader struct {
	base     string
	client   *http.Client
	progress func(done, total int64, phase string)

	done, failed, total atomic.Int64
	mu                  sync.Mutex
	byStatus            map[int]int64
	seq                 atomic.Int64
}

// run sends n requests from workers goroutines, until done or ctx ends.
func (l *loader) run(ctx context.Context, phase string, n, workers int, params string) error {
	return l.runPaced(ctx, nil, phase, n, workers, 0, params)
}

// runPaced is run that starts no new request once stop is closed, and has
// each worker start one at most every every (0: flat out).
func (l *loader) runPaced(ctx context.Context, stop <-chan struct{}, phase string, n, workers int, every time.Duration, params string) error {
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pace *time.Ticker
			if every > 0 {
				pace = time.NewTicker(every)
				defer pace.Stop()
			}
			for first := true; next.Add(1) <= int64(n) && ctx.Err() == nil && !stopped(); first = false {
				if pace != nil && !first { // each worker's first request at once
					select {
					case <-pace.C:
					case <-stop:
					case <-ctx.Done():
					}
					if ctx.Err() != nil || stopped() {
						return
					}
				}
				id := l.seq.Add(1)
				key := "id"
				if id%4 == 0 {
					key = "infohash"
				}
				l.one(ctx, phase, fmt.Sprintf("/ace/getstream?%s=%040x&%s", key, id, params))
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// one sends a request and reads its whole answer.
func (l *loader) one(ctx context.Context, phase, path string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+path, nil)
	if err == nil {
		var resp *http.Response
		resp, err = l.client.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			l.mu.Lock()
			l.byStatus[resp.StatusCode]++
			l.mu.Unlock()
		}
	}
	if err != nil {
		l.failed.Add(1)
	}
	done := l.done.Add(1)
	if l.progress != nil {
		l.progress(done, max(l.total.Load(), done), phase)
	}
}

func (l *loader) statuses() map[int]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]int64, len(l.byStatus))
	for k, v := range l.byStatus {
		out[k] = v
	}
	return out
}
