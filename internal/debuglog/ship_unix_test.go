//go:build unix

package debuglog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

// demoFleet runs the demo's scenario (scaled down in time, as the guide's
// test runs it) and lays its files out as a fleet: the proxy's files on
// two hosts (root/proxy-a, root/proxy-b: the second a copy of the first)
// and the orchestrator's (root/orch).
func demoFleet(t *testing.T, root string) (proxyA, proxyB, orch string) {
	t.Helper()
	proxyA, proxyB, orch = filepath.Join(root, "proxy-a"), filepath.Join(root, "proxy-b"), filepath.Join(root, "orch")
	require.NoError(t, os.MkdirAll(orch, 0o750))
	require.NoError(t, os.MkdirAll(proxyB, 0o750))
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: proxyA,
		SlowThresholds: map[string]time.Duration{"requests": 400 * time.Millisecond, "engine_selection": 300 * time.Millisecond},
		StallThreshold: 400 * time.Millisecond}, io.Discard)
	require.NoError(t, err)
	sc := &demoproxy.Scenario{Log: l, Requests: 100, Workers: 8, SlowStreamDuration: 600 * time.Millisecond, StallDuration: 600 * time.Millisecond,
		BreakerOpen: time.Second, SlowProvision: 400 * time.Millisecond, HealthInterval: 50 * time.Millisecond, OrchestratorDir: orch}
	_, err = sc.Run(context.Background())
	require.NoError(t, err)
	require.NoError(t, l.Close())
	entries, err := os.ReadDir(proxyA)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jsonl") {
			b, err := os.ReadFile(filepath.Join(proxyA, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(proxyB, e.Name()), b, 0o640))
		}
	}
	return proxyA, proxyB, orch
}

// diskLine is a line of a file: where it begins, and its bytes.
type diskLine struct {
	off int64
	raw string
}

// diskLines reads the non-blank lines of each .jsonl file of dir, by path.
func diskLines(t *testing.T, dir string) map[string][]diskLine {
	t.Helper()
	out := map[string][]diskLine{}
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var off int64
		for _, l := range bytes.SplitAfter(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				require.True(t, bytes.HasSuffix(l, []byte("\n")), "%s: a complete file", p)
				out[p] = append(out[p], diskLine{off, string(l[:len(l)-1])})
			}
			off += int64(len(l))
		}
	}
	return out
}

// storeLines reads the lines the store holds of a host's file, every row
// (no FINAL: a line stored twice shows twice).
func storeLines(t *testing.T, url, table, host, path string) []diskLine {
	t.Helper()
	var out []diskLine
	ch, err := newCHClient(url, table, time.Minute)
	require.NoError(t, err)
	require.NoError(t, ch.rows(context.Background(), fmt.Sprintf("SELECT offset, raw FROM %s WHERE host = %s AND path = %s ORDER BY offset",
		table, sqlQuote(host), sqlQuote(path)), 2, func(f [][]byte) error {
		out = append(out, diskLine{atoi64(f[0]), string(f[1])})
		return nil
	}))
	return out
}

// assertStoreHoldsDisk: the store holds each line of each file of dir once,
// byte for byte, at its offset; and no other line of the host.
func assertStoreHoldsDisk(t *testing.T, url, table, host, dir string) int {
	t.Helper()
	total := 0
	for path, lines := range diskLines(t, dir) {
		assert.Equal(t, lines, storeLines(t, url, table, host, path), "%s %s: every line once", host, path)
		total += len(lines)
	}
	assert.Equal(t, strconv.Itoa(total)+"\n", chQuery(t, url, fmt.Sprintf("SELECT count() FROM %s WHERE host = %s", table, sqlQuote(host))), host)
	return total
}

// TestShipKilledTwiceEveryLineOnce: a fleet of two proxies and one
// orchestrator shipped into one table, the first proxy's shipper killed
// with SIGKILL twice in the middle (each time after the server stored a
// batch and before the checkpoint said so: where a crash costs most) and
// restarted: the store holds every line of every file once, byte for byte.
// Then correlate, summary and request give the same findings from the
// store as from the directories.
func TestShipKilledTwiceEveryLineOnce(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	root := t.TempDir()
	proxyA, proxyB, orch := demoFleet(t, root)
	onDisk := 0
	for _, lines := range diskLines(t, proxyA) {
		onDisk += len(lines)
	}
	require.Greater(t, onDisk, 200, "enough lines to stop in the middle")

	args := []string{"ship", "--clickhouse", url, "--table", table, "--host", "proxy-a", "--checkpoint", filepath.Join(root, "ship-a.json"),
		"--batch", "25", "--progress", "--proxy", proxyA}
	stored := 0
	for _, stallAfter := range []int{3, 2} {
		c := startChild(t, "ship-stall-after="+strconv.Itoa(stallAfter), args...)
		c.waitFor(t, "stalled after an acknowledged batch")
		require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
		c.wait(t)
		// The batches acknowledged are stored, once: the restart took the
		// last one from the store, not from the checkpoint, which lags.
		stored += 25 * stallAfter
		assert.Equal(t, strconv.Itoa(stored)+"\n", chQuery(t, url, fmt.Sprintf("SELECT count() FROM %s WHERE host = 'proxy-a'", table)), "killed in the middle")
	}
	c := startChild(t, "", append(args, "--once")...)
	code, out := c.wait(t)
	require.Equal(t, 0, code, out)

	// The others, in process.
	for _, o := range []struct{ host, flag, dir string }{{"proxy-b", "--proxy", proxyB}, {"orch", "--orch", orch}} {
		runOK(t, "ship", "--clickhouse", url, "--table", table, "--host", o.host,
			"--checkpoint", filepath.Join(root, "ship-"+o.host+".json"), "--once", o.flag, o.dir)
	}
	assert.Equal(t, onDisk, assertStoreHoldsDisk(t, url, table, "proxy-a", proxyA))
	assertStoreHoldsDisk(t, url, table, "proxy-b", proxyB)
	assertStoreHoldsDisk(t, url, table, "orch", orch)
	// Shipped again: nothing more.
	assert.Empty(t, runOK(t, append(args[:len(args):len(args)], "--once")...), "nothing left to ship")
	assert.Equal(t, onDisk, assertStoreHoldsDisk(t, url, table, "proxy-a", proxyA))

	t.Run("correlate", func(t *testing.T) {
		fromDirs := runJSON(t, "correlate", "--json", "--proxy", proxyA, "--proxy", proxyB, "--orch", orch)
		fromStore := runJSON(t, "correlate", "--json", "--clickhouse", url, "--table", table)
		require.NotEmpty(t, findingsOf(fromDirs))
		assert.Equal(t, findingsOf(fromDirs), findingsOf(fromStore), "the same effects and first causes")
		assert.Equal(t, fromDirs["incidents"] != nil, fromStore["incidents"] != nil)
		assert.Equal(t, incidentsOf(fromDirs), incidentsOf(fromStore), "the same incidents")
		// One host of the fleet: its effects only.
		oneHost := runJSON(t, "correlate", "--json", "--clickhouse", url, "--table", table, "--host", "proxy-b", "--host", "orch")
		assert.Len(t, oneHost["effects"], len(fromDirs["effects"].([]any))/2)
	})
	t.Run("summary", func(t *testing.T) {
		fromDirs := runOK(t, "summary", proxyA, proxyB, orch)
		fromStore := runOK(t, "summary", "--clickhouse", url, "--table", table)
		assert.Equal(t, fromDirs, fromStore)
	})
	t.Run("request", func(t *testing.T) {
		var id string
		eachJSONLine(t, filepath.Join(proxyA, filepath.Base(firstGlob(t, proxyA, "*_stress.jsonl"))), func(m map[string]any) {
			if s, _ := m["request_id"].(string); s != "" && id == "" && m["event_type"] == "slow_request" {
				id = s
			}
		})
		require.NotEmpty(t, id)
		fromDirs := runJSON(t, "request", id, "--json", "--proxy", proxyA, "--orch", orch)
		fromStore := runJSON(t, "request", id, "--json", "--clickhouse", url, "--table", table, "--host", "proxy-a", "--host", "orch")
		assert.Equal(t, stepsOf(fromDirs), stepsOf(fromStore))
	})
	t.Run("guide's queries", func(t *testing.T) {
		// The guide's dozen queries run on this server (ClickHouse 18.16 has
		// no JSONExtract, no DateTime64), on the fleet's table.
		queries := guideQueries(t)
		require.GreaterOrEqual(t, len(queries), 12)
		for _, q := range queries {
			q = regexp.MustCompile(`\bdebuglog\b`).ReplaceAllString(q, table)
			q = strings.ReplaceAll(q, "timestamp > now() - 3600", "timestamp > now() - 86400")
			out := chQuery(t, url, q)
			switch {
			case strings.Contains(q, "AS slow_starts"):
				assert.Contains(t, out, "proxy-a\t", "slow starts on both proxies")
				assert.Contains(t, out, "proxy-b\t")
			case strings.Contains(q, "AS duplicates"):
				assert.Equal(t, "0\n", out, "no line stored twice")
			case strings.Contains(q, "AS lines, max(timestamp)"):
				assert.Equal(t, 3, strings.Count(out, "\n"), "three shippers: %s", out)
			}
		}
	})
	t.Run("report", func(t *testing.T) {
		// The same lanes (system, category, events) from the store as from
		// the directories.
		lanes := func(args ...string) string {
			out := filepath.Join(t.TempDir(), "report.html")
			runOK(t, append(args, "-o", out)...)
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			m := regexp.MustCompile(`"lanes":\[[^\]]*\]`).Find(b)
			require.NotNil(t, m, "the report's data has its lanes")
			return string(m)
		}
		assert.Equal(t, lanes("report", "--proxy", proxyA, "--proxy", proxyB, "--orch", orch), lanes("report", "--clickhouse", url, "--table", table))
	})
}

// firstGlob is the first file of dir matching pattern.
func firstGlob(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	require.NoError(t, err)
	require.NotEmpty(t, m)
	return m[0]
}

// runJSON runs debuglog with --json and decodes its output.
func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(runOK(t, args...)), &m))
	return m
}

// lineKey is a line of --json output without where it is (a file's path,
// or host:path in the store): its system, line number, time and name.
func lineKey(v any) string {
	m, _ := v.(map[string]any)
	return fmt.Sprint(m["system"], " ", filepath.Base(fmt.Sprint(m["file"])), ":", m["line"], " ", m["time"], " ", m["name"])
}

// findingsOf lists correlate's effects, each with its kind and first cause.
func findingsOf(m map[string]any) []string {
	var out []string
	effects, _ := m["effects"].([]any)
	for _, e := range effects {
		em := e.(map[string]any)
		s := fmt.Sprint(em["kind"], " ", lineKey(em), " topics=", em["topics"])
		if cs, _ := em["causes"].([]any); len(cs) > 0 {
			c := cs[0].(map[string]any)
			s += fmt.Sprint(" <- ", c["match"], " ", c["reason"], " ", lineKey(c))
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// incidentsOf lists correlate's incidents.
func incidentsOf(m map[string]any) []string {
	var out []string
	in, _ := m["incidents"].([]any)
	for _, i := range in {
		im := i.(map[string]any)
		out = append(out, fmt.Sprint(lineKey(im), " explains ", im["explains"]))
	}
	sort.Strings(out)
	return out
}

// stepsOf lists request's steps.
func stepsOf(m map[string]any) []string {
	var out []string
	steps, _ := m["steps"].([]any)
	for _, s := range steps {
		sm := s.(map[string]any)
		out = append(out, fmt.Sprint(lineKey(sm), " ", sm["relation"], " ", sm["offset_ms"]))
	}
	return out
}

// guideQueries are the SQL queries of the guide's "A dozen queries".
func guideQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/DEBUG_MODE.md")
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, "### A dozen queries")
	require.GreaterOrEqual(t, i, 0)
	block := regexp.MustCompile("(?s)```sql\n(.*?)```").FindStringSubmatch(text[i:])
	require.NotNil(t, block)
	var out []string
	for _, q := range strings.Split(block[1], ";\n") {
		var lines []string
		for _, l := range strings.Split(q, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") && strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			out = append(out, strings.Join(lines, "\n"))
		}
	}
	return out
}

// TestCHClientResetsConnectionGivenUp: a request given up on (--timeout)
// to a server that has not read it yet (paused: SIGSTOP) is reset, not
// closed: the server finds the connection broken (ClickHouse drops the
// request, as the SIGSTOP loop showed) instead of a whole request it
// would run and store after the shipper sent the batch again.
func TestCHClientResetsConnectionGivenUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	ch, err := newCHClient("http://"+ln.Addr().String()+"/", chTable, 200*time.Millisecond)
	require.NoError(t, err)
	err = ch.exec(context.Background(), "INSERT INTO t FORMAT TabSeparated", strings.NewReader("a line\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not answer within")
	conn, err := ln.Accept() // the server comes back
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.ReadAll(conn)
	assert.ErrorIs(t, err, syscall.ECONNRESET, "reset, not a request that ended")
}
