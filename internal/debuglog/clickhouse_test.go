package debuglog

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests that need a store share one ClickHouse server, started on
// loopback by the first of them (the Debian package's clickhouse-server,
// which .ci/run installs) with a data directory of its own, and stopped by
// TestMain. Each test uses a table of its own. Where there is no server
// to start, those tests skip, saying why.

var (
	chOnce   sync.Once
	chServer *exec.Cmd
	chURL    string
	chDir    string
	chSkip   string
	chExited chan struct{}
)

// chConfig is the Debian package's server configuration, which the
// tests' server starts from (its paths and ports given on the command line).
const chConfig = "/etc/clickhouse-server/config.xml"

// clickhouseURL returns the tests' server's HTTP URL, starting it the
// first time; it skips the test when there is no server to start.
func clickhouseURL(t *testing.T) string {
	t.Helper()
	chOnce.Do(startClickHouse)
	if chURL == "" {
		t.Skip(chSkip)
	}
	return chURL
}

func startClickHouse() {
	if os.Getenv("DEBUGMODE_TEST_CLICKHOUSE") == "off" {
		chSkip = "DEBUGMODE_TEST_CLICKHOUSE=off (make test-floor: the store's tests run once, in make test's race run)"
		return
	}
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		bin = "/usr/sbin/clickhouse-server"
	}
	if _, err := os.Stat(bin); err != nil {
		chSkip = "no clickhouse-server (Debian's clickhouse-server package; .ci/run installs it): the store's tests skip"
		return
	}
	if _, err := os.Stat(chConfig); err != nil {
		chSkip = "no " + chConfig + " (Debian's clickhouse-server package): the store's tests skip"
		return
	}
	chDir, err = os.MkdirTemp("", "debuglog-clickhouse-")
	if err != nil {
		chSkip = "cannot make the server's directory: " + err.Error()
		return
	}
	ports, err := freePorts(3)
	if err != nil {
		chSkip = "no free loopback ports: " + err.Error()
		return
	}
	log, err := os.Create(filepath.Join(chDir, "stdout"))
	if err != nil {
		chSkip = err.Error()
		return
	}
	defer log.Close()
	d := chDir + string(filepath.Separator)
	cmd := exec.Command(bin, "--config-file="+chConfig, "--",
		"--path="+d+"data/", "--tmp_path="+d+"tmp/", "--user_files_path="+d+"uf/", "--format_schema_path="+d+"fs/",
		fmt.Sprintf("--http_port=%d", ports[0]), fmt.Sprintf("--tcp_port=%d", ports[1]), fmt.Sprintf("--interserver_http_port=%d", ports[2]),
		"--logger.log="+d+"log", "--logger.errorlog="+d+"err", "--listen_host=127.0.0.1")
	cmd.Stdout, cmd.Stderr = log, log
	dieWithTests(cmd)
	if err := cmd.Start(); err != nil {
		chSkip = "clickhouse-server does not start: " + err.Error()
		return
	}
	chServer, chExited = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		close(chExited)
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", ports[0])
	// Ready when /ping answers: polled, up to a minute (a busy machine).
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		if resp, err := client.Get(url + "ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				chURL = url
				return
			}
		}
		select {
		case <-chExited:
			chSkip = "clickhouse-server exited at start (not root-capable here?): " + tail(filepath.Join(chDir, "err"))
			return
		case <-deadline.C:
			chSkip = "clickhouse-server did not answer /ping within a minute: " + tail(filepath.Join(chDir, "err"))
			return
		case <-tick.C:
		}
	}
}

// tail is the end of a file, for a message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 500 {
		b = b[len(b)-500:]
	}
	return strings.TrimSpace(string(b))
}

// freePorts returns n loopback ports free now.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// stopClickHouse stops the tests' server, if one was started.
func stopClickHouse() {
	if chServer == nil {
		return
	}
	chServer.Process.Kill()
	<-chExited
	os.RemoveAll(chDir)
	http.DefaultClient.CloseIdleConnections()
}

// chQuery runs a query on the tests' server and returns its answer.
func chQuery(t *testing.T, url, sql string) string {
	t.Helper()
	ch, err := newCHClient(url, chTable, time.Minute)
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, ch.rows(context.Background(), sql, -1, func(f [][]byte) error {
		for i, x := range f {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.Write(x)
		}
		b.WriteByte('\n')
		return nil
	}))
	ch.http.CloseIdleConnections()
	return b.String()
}

// testTable is a table name of the test's own.
func testTable(t *testing.T) string {
	return "t_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
}
