package integration_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

// BenchmarkStreamingProxy streams through the loopback proxy (middleware,
// engine selection, stream events, stream copy, all logging) with debug
// mode off and on: the throughput with it on should be at least 0.99 of
// the throughput with it off. Each op is one 16 MiB stream, about 27 s of a
// 5 Mbit/s channel; the streams run from both cores at once.
func BenchmarkStreamingProxy(b *testing.B) {
	for _, debug := range []bool{false, true} {
		b.Run(fmt.Sprintf("debug=%s", map[bool]string{false: "off", true: "on"}[debug]), func(b *testing.B) {
			streamThroughProxy(b, slogdebug.Config{Enabled: debug})
		})
	}
}

// streamThroughProxy runs b.N streams of 16 MiB through the loopback proxy
// (a fake orchestrator and engine, the middleware, the client) logging
// with a Logger of cfg, from both cores at once.
func streamThroughProxy(b *testing.B, cfg slogdebug.Config) {
	const size = 16 << 20
	engineSrv := httptest.NewServer(demoproxy.Engine{})
	defer engineSrv.Close()
	host, portStr, _ := net.SplitHostPort(engineSrv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	orchSrv := httptest.NewServer(demoproxy.NewOrchestrator(host, port))
	defer orchSrv.Close()

	cfg.Dir = b.TempDir()
	log, err := slogdebug.New(cfg, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	tr := func() *http.Transport {
		t := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
		b.Cleanup(t.CloseIdleConnections)
		return t
	}
	client, err := integration.New(orchSrv.URL, log, integration.Options{APIKey: "k",
		HTTPClient: &http.Client{Timeout: time.Minute, Transport: tr()}})
	if err != nil {
		b.Fatal(err)
	}
	proxySrv := httptest.NewServer(integration.Middleware(log)(&demoproxy.Proxy{Orch: client, Log: log, EngineClient: &http.Client{Transport: tr()}}))
	defer proxySrv.Close()
	c := &http.Client{Transport: tr()}
	url := proxySrv.URL + "/ace/getstream?id=bench&size=" + strconv.Itoa(size)

	b.SetBytes(size)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || n != size {
				b.Errorf("got %d bytes, %v", n, err)
				return
			}
		}
	})
	b.StopTimer()
	if cfg.Enabled {
		if err := log.Close(); err != nil {
			b.Fatal(err)
		}
		st := log.Stats()
		b.ReportMetric(float64(st.Written)/float64(b.N), "lines/op")
		b.ReportMetric(float64(st.Dropped), "dropped")
	}
}
