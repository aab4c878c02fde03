package integration_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// The fork's request path, as the benchmark below runs it.
const (
	forkCalls       = 15       // orchestrator calls a request makes
	forkStreamBytes = 64 << 10 // the short stream each request sends its client
	forkCallers     = 8        // clients at once
	forkDebugLines  = 15       // the program's own slog.Debug lines a request (the fork's, below the console's level)
	forkInfoLines   = 3        // and its own slog.Info lines, to the console
)

// BenchmarkForkRequestPath is the acexy fork's request path on loopback:
// an HTTP server whose handler makes forkCalls calls to a fake orchestrator
// through an http.Client with a Timeout, over keep-alive connections (an
// idle pool of forkCallers connections), then streams forkStreamBytes to its client;
// forkCallers clients at once. impl=plain is the program without the
// library (a plain client and handler); impl=off the same with Middleware
// around the handler, the client made by WrapClient (Transport under it)
// and CopyStream for the stream, debug mode off; impl=on the same with debug mode on, files in a
// temporary directory; impl=goroutines that with DEBUG_GOROUTINES too
// (each request under profiler labels, with a slow-start watch);
// impl=busy20us is plain with 20 µs of CPU added to each request (a busy
// loop), a yardstick: what a known cost per request measures as here. The
// handler also logs the fork's own lines through slog's default:
// forkDebugLines at Debug and forkInfoLines at Info, to a console at Info
// (slog's TextHandler into io.Discard; off and on: that console through
// Init).
//
// The fake orchestrator and the clients run in a process of their own (this
// test binary again, forkPeer), as they do beside the real proxy, so that
// what is measured is the proxy's: cpu-ns/req is the CPU time of this
// process (the proxy) per request, B/op and allocs/op its allocations;
// peer-cpu-ns/req is the other process's (the orchestrator reading the
// forwarded request IDs is there), orch-conns/req the orchestrator's
// accepted connections per request.
func BenchmarkForkRequestPath(b *testing.B) {
	for _, impl := range []string{"plain", "off", "on", "goroutines", "busy20us"} {
		b.Run("impl="+impl, func(b *testing.B) { forkRequestPath(b, impl) })
	}
}

func forkRequestPath(b *testing.B, impl string) {
	peer := startForkPeer(b)
	orchTransport := &http.Transport{MaxIdleConnsPerHost: forkCallers}
	defer orchTransport.CloseIdleConnections()
	orch := &http.Client{Timeout: 30 * time.Second, Transport: orchTransport}
	console := slog.NewTextHandler(io.Discard, nil)
	prog := slog.New(console)
	var busy time.Duration
	if impl == "busy20us" {
		busy = 20 * time.Microsecond
	}
	var proxy http.Handler = forkHandler(orch, peer.orchURL, nil, prog, busy)
	if impl != "plain" && impl != "busy20us" {
		old := slog.Default()
		defer slog.SetDefault(old)
		log, err := slogdebug.Init(slogdebug.Config{Enabled: impl != "off", Goroutines: impl == "goroutines", Dir: b.TempDir(), Console: console})
		if err != nil {
			b.Fatal(err)
		}
		defer log.Close()
		prog = slog.Default()
		orch = integration.WrapClient(orch, log)
		proxy = integration.Middleware(log, "/ace/status")(forkHandler(orch, peer.orchURL, log, prog, 0))
	}
	proxySrv := httptest.NewServer(proxy)
	defer proxySrv.Close()
	url := proxySrv.URL + "/ace/getstream?id=0123456789abcdef0123456789abcdef01234567"

	b.ReportAllocs()
	b.ResetTimer()
	cpuStart, cpuOK := processCPU()
	res := peer.drive(b, url, b.N)
	b.StopTimer()
	if cpuEnd, ok := processCPU(); cpuOK && ok {
		b.ReportMetric(float64(cpuEnd-cpuStart)/float64(b.N), "cpu-ns/req")
	}
	if res.cpu >= 0 {
		b.ReportMetric(float64(res.cpu)/float64(b.N), "peer-cpu-ns/req")
	}
	b.ReportMetric(float64(res.accepted)/float64(b.N), "orch-conns/req")
}

// forkPeerEnv makes the test binary forkPeer instead of running tests.
const forkPeerEnv = "DEBUGMODE_FORK_PEER"

// forkPeerProc is BenchmarkForkRequestPath's other process.
type forkPeerProc struct {
	orchURL string
	in      io.Writer
	out     *bufio.Scanner
}

// forkDrive is what one drive command reports.
type forkDrive struct {
	accepted int64         // the orchestrator's new connections
	cpu      time.Duration // the peer's CPU time; negative: unknown
}

// startForkPeer starts forkPeer (this test binary) and reads its
// orchestrator's URL; it ends with the benchmark.
func startForkPeer(b *testing.B) *forkPeerProc {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), forkPeerEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close() // the peer ends at the end of its input
		if err := cmd.Wait(); err != nil {
			b.Errorf("fork peer: %v", err)
		}
	})
	p := &forkPeerProc{in: in, out: bufio.NewScanner(out)}
	if !p.out.Scan() {
		b.Fatalf("fork peer: no orchestrator URL: %v", p.out.Err())
	}
	p.orchURL = p.out.Text()
	return p
}

// drive has the peer's forkCallers clients make n requests to url and
// waits for them.
func (p *forkPeerProc) drive(b *testing.B, url string, n int) (res forkDrive) {
	b.Helper()
	if _, err := fmt.Fprintf(p.in, "%s %d\n", url, n); err != nil {
		b.Fatal(err)
	}
	if !p.out.Scan() {
		b.Fatalf("fork peer: no answer: %v", p.out.Err())
	}
	var failure string
	if _, err := fmt.Sscanf(p.out.Text(), "%d %d %q", &res.accepted, &res.cpu, &failure); err != nil {
		b.Fatalf("fork peer: answered %q: %v", p.out.Text(), err)
	}
	if failure != "" {
		b.Fatalf("fork peer: %s", failure)
	}
	return res
}

// forkPeer is BenchmarkForkRequestPath's other process: it serves the fake
// orchestrator, writes its URL, then for each line "URL N" of its input has
// forkCallers clients make N requests to URL and answers "accepted cpu
// failure" (the orchestrator's new connections, its own CPU time in ns or
// -1, the first failed request quoted, "" for none); it ends with its input.
func forkPeer() error {
	orchSrv := httptest.NewUnstartedServer(fakeOrchestrator())
	orchListener := &countingListener{Listener: orchSrv.Listener}
	orchSrv.Listener = orchListener
	orchSrv.Start()
	defer orchSrv.Close()
	clientTransport := &http.Transport{MaxIdleConnsPerHost: forkCallers, DisableCompression: true}
	defer clientTransport.CloseIdleConnections()
	client := &http.Client{Transport: clientTransport}
	fmt.Println(orchSrv.URL)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var url string
		var n int64
		if _, err := fmt.Sscanf(in.Text(), "%s %d", &url, &n); err != nil {
			return fmt.Errorf("command %q: %w", in.Text(), err)
		}
		accepted := orchListener.accepted.Load()
		cpuStart, okStart := processCPU()
		failure := forkClients(client, url, n)
		cpuEnd, okEnd := processCPU()
		cpu := cpuEnd - cpuStart
		if !okStart || !okEnd {
			cpu = -1
		}
		fmt.Printf("%d %d %q\n", orchListener.accepted.Load()-accepted, cpu, failure)
	}
	return in.Err()
}

// forkClients makes n requests to url, forkCallers at once, each reading
// the whole stream; it returns the first failure ("" for none).
func forkClients(client *http.Client, url string, n int64) string {
	var next atomic.Int64
	var failure atomic.Pointer[string]
	var wg sync.WaitGroup
	for c := 0; c < forkCallers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n && failure.Load() == nil {
				if err := forkRequest(client, url); err != nil {
					msg := err.Error()
					failure.CompareAndSwap(nil, &msg)
				}
			}
		}()
	}
	wg.Wait()
	if f := failure.Load(); f != nil {
		return *f
	}
	return ""
}

// forkRequest is one client's request: the whole stream, status 200.
func forkRequest(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != forkStreamBytes || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d, %d bytes, %v", resp.StatusCode, n, err)
	}
	return nil
}

// fakeOrchestrator answers every call with a small JSON body, as GET
// /engines does with two engines.
func fakeOrchestrator() http.Handler {
	body := []byte(`[{"container_id":"0acef00d0001","host":"127.0.0.1","port":40001,"health_status":"healthy","stream_count":1},` +
		`{"container_id":"0acef00d0002","host":"127.0.0.1","port":40002,"health_status":"healthy","stream_count":0}]`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// forkHandler is the fork's stream handler: forkCalls orchestrator calls
// with the request's context, the program's own lines through prog, then
// the stream; log nil is the program without the library (its own copy
// loop), else CopyStream; busy is CPU time spent on each request besides.
func forkHandler(orch *http.Client, orchURL string, log *slogdebug.Logger, prog *slog.Logger, busy time.Duration) http.Handler {
	paths := []string{"/engines", "/orchestrator/status", "/engines/0acef00d0001", "/events/stream_started", "/events/stream_ended"}
	stream := bytes.Repeat([]byte{0x47}, forkStreamBytes) // MPEG-TS sync bytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		for i := 0; i < forkCalls; i++ {
			method, path, body := http.MethodGet, paths[i%len(paths)], io.Reader(nil)
			if strings.HasPrefix(path, "/events/") {
				method, body = http.MethodPost, strings.NewReader(`{"container_id":"0acef00d0001","stream_id":"s"}`)
			}
			req, err := http.NewRequestWithContext(ctx, method, orchURL+path, body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			resp, err := orch.Do(req)
			if err != nil {
				http.Error(w, fmt.Sprintf("orchestrator: %v", err), http.StatusBadGateway)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		for start := time.Now(); time.Since(start) < busy; { // CPU, not a wait
		}
		for i := 0; i < forkDebugLines; i++ {
			prog.DebugContext(ctx, "Emitting stream_started event to orchestrator", "stream_id", "s", "host", "127.0.0.1", "port", 40001)
		}
		for i := 0; i < forkInfoLines; i++ {
			prog.InfoContext(ctx, "Selected engine from orchestrator", "host", "127.0.0.1", "port", 40001)
		}
		w.Header().Set("Content-Type", "video/mp2t")
		engine := bytes.NewReader(stream)
		if log != nil {
			integration.CopyStream(ctx, log, w, engine, integration.Stream{ID: "s", AceID: "0123456789abcdef0123456789abcdef01234567"})
			return
		}
		buf := make([]byte, 32<<10) // CopyStream's chunk, flushed as it does
		rc := http.NewResponseController(w)
		for {
			n, err := engine.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				_ = rc.Flush()
			}
			if err != nil {
				return
			}
		}
	})
}

// BenchmarkOrchestratorCall is one call of BenchmarkForkRequestPath's
// handler on its own, one caller, with request IDs in its context: the
// plain client with a Timeout, WrapClient's with debug mode off and on. It
// reports the process's CPU time per call (cpu-ns/op: the fake
// orchestrator's share included, which reads the two forwarded headers).
func BenchmarkOrchestratorCall(b *testing.B) {
	for _, impl := range []string{"plain", "off", "on", "goroutines"} {
		b.Run("impl="+impl, func(b *testing.B) {
			orchSrv := httptest.NewServer(fakeOrchestrator())
			defer orchSrv.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			orch := &http.Client{Timeout: 30 * time.Second, Transport: tr}
			if impl != "plain" {
				log, err := slogdebug.New(slogdebug.Config{Enabled: impl != "off", Goroutines: impl == "goroutines", Dir: b.TempDir()}, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				defer log.Close()
				orch = integration.WrapClient(orch, log)
			}
			ctx := reqid.With(context.Background(), reqid.New())
			b.ReportAllocs()
			b.ResetTimer()
			cpuStart, cpuOK := processCPU()
			for i := 0; i < b.N; i++ {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, orchSrv.URL+"/engines", nil)
				if err != nil {
					b.Fatal(err)
				}
				resp, err := orch.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.StopTimer()
			if cpuEnd, ok := processCPU(); cpuOK && ok {
				b.ReportMetric(float64(cpuEnd-cpuStart)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
