package debuglog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReportBoundsStressEvents: 60,000 stress events of three types over
// an hour are not all drawn: per type the first and the worst (by severity,
// then duration) are, every one is counted per type and per minute, and the
// page stays small; the worst event of all, late in the file, is drawn.
func TestReportBoundsStressEvents(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	types := []string{"slow_request", "slow_engine_selection", "provisioning_failed"}
	var b strings.Builder
	const n = 60_000
	for i := range n {
		at := start.Add(time.Duration(i) * time.Hour / n)
		d := 5000 + i%900
		if i == n-7 {
			d = 99_999 // the worst
		}
		fmt.Fprintf(&b, `{"session_id":"20261126_090000","timestamp":"%s","elapsed_seconds":%d,"level":"WARN","category":"stress","msg":"%s","event_type":"%s","severity":"warning","description":"took long","request_id":"r%06d","duration_ms":%d}`+"\n",
			at.Format("2006-01-02T15:04:05.000000000Z"), i, types[i%3], types[i%3], i, d)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_090000_stress.jsonl"), []byte(b.String()), 0o644))
	out := filepath.Join(t.TempDir(), "r.html")
	code, _, errOut := debuglog("report", dir, "-o", out)
	require.Equal(t, 0, code, errOut)

	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Less(t, len(page), 2<<20, "page bytes")
	s := string(page)
	s = s[strings.Index(s, `<script id="data" type="application/json">`)+len(`<script id="data" type="application/json">`):]
	s = s[:strings.Index(s, "</script>")]
	var data struct {
		T      []float64 `json:"t"`
		K      []int     `json:"k"`
		D      []float64 `json:"d"`
		Total  int       `json:"total"`
		Stress struct {
			Unit  int `json:"unit_s"`
			Types []struct {
				Name  string `json:"name"`
				N     int    `json:"n"`
				Drawn int    `json:"drawn"`
			} `json:"types"`
			Cells [][3]int64 `json:"cells"`
		} `json:"stress"`
	}
	require.NoError(t, json.Unmarshal([]byte(s), &data))
	assert.Equal(t, n, data.Total)
	drawn, worst := 0, false
	for i, k := range data.K {
		if k&kindStress != 0 {
			drawn++
			worst = worst || data.D[i] == 99_999
		}
	}
	assert.LessOrEqual(t, drawn, 600, "stress events drawn: per type at most the first 100 and the worst 100")
	assert.True(t, worst, "the worst is drawn")
	require.Len(t, data.Stress.Types, 3)
	counted := 0
	for _, ty := range data.Stress.Types {
		assert.Equal(t, n/3, ty.N, ty.Name)
	}
	for _, c := range data.Stress.Cells {
		counted += int(c[2])
	}
	assert.Equal(t, n, counted, "every stress event counted per type and minute")
	assert.Equal(t, 60, data.Stress.Unit)
}
