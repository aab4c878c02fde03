package debuglog

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportIsSelfContained(t *testing.T) {
	proxy := writeProxyFiles(t)
	out := filepath.Join(t.TempDir(), "report.html")
	code, stdout, errOut := debuglog("report", "--proxy", proxy, "--orch", orchDir, "-o", out)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, stdout, "wrote "+out)
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	html := string(page)
	assert.NotRegexp(t, `(?i)(src|href)\s*=\s*["']?(https?:)?//`, html, "nothing loaded from the network")
	assert.NotRegexp(t, `(?i)(fetch\(|XMLHttpRequest|import\()`, html)
	assert.NotContains(t, html, "/*DATA*/null")
	assert.Contains(t, stdout, "1 empty gaps folded", "the proxy's session lines, written now, are hours from the scenario")
}

// TestReportIsBounded: past --max, routine events are counted, not kept;
// every stress event is kept whatever the bound.
func TestReportIsBounded(t *testing.T) {
	proxy := writeProxyFiles(t)
	out := filepath.Join(t.TempDir(), "report.html")
	code, stdout, errOut := debuglog("report", "--proxy", proxy, "--orch", orchDir, "-o", out, "--max", "2")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, stdout, "51 events in 18 lanes")
	data := reportDataOf(t, out)
	stress := 0
	for _, k := range data.K {
		if k&kindStress != 0 {
			stress++
		}
	}
	assert.Equal(t, 8, stress, "every stress event")
	assert.Less(t, data.Kept, 51)
	total := 0
	for _, h := range data.Hist {
		for i := 0; i < len(h); i += 4 {
			total += int(h[i+1])
		}
	}
	assert.Equal(t, 51, total, "every event counted in the density")
}

func reportDataOf(t *testing.T, path string) reportData {
	t.Helper()
	page, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(page)
	i := strings.Index(s, `<script id="data" type="application/json">`)
	require.Positive(t, i)
	s = s[i+len(`<script id="data" type="application/json">`):]
	s = s[:strings.Index(s, "</script>")]
	var d reportData
	require.NoError(t, jsonUnmarshal([]byte(s), &d))
	return d
}

// browserReport writes the report of the matched scenario for a browser
// test: Chromium's path, the report's, and where screenshots go
// (DEBUGLOG_SCREENSHOTS, to look at them; else the test's directory). It
// skips the test where there is no Chromium.
func browserReport(t *testing.T) (chromium, report, shots string) {
	t.Helper()
	chromium = findChromium()
	if chromium == "" {
		t.Skip("no Chromium on this machine: .ci/run installs Debian's chromium package (as root); apt-get install chromium to run this test")
	}
	proxy := writeProxyFiles(t)
	dir := t.TempDir()
	report = filepath.Join(dir, "report.html")
	code, _, errOut := debuglog("report", "--proxy", proxy, "--orch", orchDir, "-o", report, "--poll", "500ms")
	require.Equal(t, 0, code, errOut)
	shots = os.Getenv("DEBUGLOG_SCREENSHOTS")
	if shots == "" {
		shots = dir
	}
	return chromium, report, shots
}

// TestReportInAHeadlessBrowser loads the report of the matched scenario in
// Chromium through the DevTools protocol and uses it as a person would:
// wheel zoom, drag pan, a brush on the overview, a click on an event, the
// filters; then looks at it at 1400x900 and on a 390x844 phone.
func TestReportInAHeadlessBrowser(t *testing.T) {
	path, out, shots := browserReport(t)

	b := newBrowser(t, path)
	b.open("file://"+out, 1400, 900, false)
	var rendered string
	b.eval(`document.body.getAttribute("data-rendered")`, &rendered)
	require.Equal(t, "true", rendered, "the script ran")
	var lanes []string
	b.eval(`__report.lanes()`, &lanes)
	require.Len(t, lanes, 18)
	assert.Equal(t, "proxy / disconnects", lanes[0], "grouped by system, proxy first")
	assert.Equal(t, "orchestrator / circuit_breaker", lanes[10])
	var n int
	b.eval(`__report.stress`, &n)
	assert.Equal(t, 8, n)

	// The axis: the proxy's session lines, hours away, are folded out; the
	// scenario's two seconds take most of the width.
	find := func(name string) int {
		var i int
		b.eval(`__report.data.t.findIndex(function (t, i) { return __report.data.names[__report.data.n[i]] === `+jsonQuote(name)+`; })`, &i)
		require.GreaterOrEqual(t, i, 0, name)
		return i
	}
	first, last := find("start_acestream_begin"), find("error")
	var x0, x1, plot float64
	b.eval(`__report.X(`+itoa(first)+`)`, &x0)
	b.eval(`__report.X(`+itoa(last)+`)`, &x1)
	b.eval(`document.getElementById("chart").clientWidth`, &plot)
	assert.Greater(t, x1-x0, 0.6*plot, "the scenario is not squashed by the outlier")

	// Click the proxy's orchestrator_degraded: its line and its causes.
	degraded := find("orchestrator_degraded")
	var x, y, top float64
	b.eval(`__report.X(`+itoa(degraded)+`)`, &x)
	b.eval(`__report.Y(`+itoa(degraded)+`)`, &y)
	b.eval(`document.getElementById("chart").getBoundingClientRect().top`, &top)
	b.click(x, y+top)
	b.frame()
	var details string
	b.eval(`document.getElementById("detailbody").textContent`, &details)
	assert.Contains(t, details, `"event_type":"orchestrator_degraded"`, "the whole line")
	assert.Contains(t, details, "plausibly caused by")
	assert.Contains(t, details, "circuit_breaker_opened")
	b.screenshot(filepath.Join(shots, "report-1400x900-selected.png"))

	// Wheel zoom at the event: the view narrows, the event stays put.
	var before, after []float64
	b.eval(`__report.X(`+itoa(degraded)+`)`, &x)
	b.eval(`[__report.state.v0, __report.state.v1]`, &before)
	x = math.Round(x) // the browser's pointer is on whole pixels: zoom about the pixel the event is on
	b.mouse("mouseWheel", x, y+top, map[string]any{"deltaX": 0, "deltaY": -800})
	b.frame()
	b.eval(`[__report.state.v0, __report.state.v1]`, &after)
	assert.Less(t, after[1]-after[0], (before[1]-before[0])/2, "zoomed in")
	var xAfter float64
	b.eval(`__report.X(`+itoa(degraded)+`)`, &xAfter)
	// The pointer is on whole pixels and the chart's left edge need not be:
	// up to half a pixel off before a zoom of about 4x is 2 px after it.
	assert.InDelta(t, x, xAfter, 6, "zoomed around the cursor")
	var rows int
	b.eval(`+document.getElementById("list").getAttribute("data-total")`, &rows)
	assert.Less(t, rows, 51, "the list follows the view")
	b.screenshot(filepath.Join(shots, "report-1400x900-zoomed.png"))

	// Drag to pan: the view moves by what the pointer moved.
	b.eval(`[__report.state.v0, __report.state.v1]`, &before)
	b.drag(x, y+top, x-200, y+top)
	b.frame()
	b.eval(`[__report.state.v0, __report.state.v1]`, &after)
	assert.Greater(t, after[0], before[0], "panned to later times")
	assert.InDelta(t, before[1]-before[0], after[1]-after[0], 1e-6, "same zoom")

	// Brush on the overview: the view becomes the brushed range.
	var ob struct{ Left, Top, Width, Height float64 }
	b.eval(`(function () { var r = document.getElementById("overview").getBoundingClientRect(); return {Left: r.left, Top: r.top, Width: r.width, Height: r.height}; })()`, &ob)
	b.drag(ob.Left+0.2*ob.Width, ob.Top+ob.Height/2, ob.Left+0.4*ob.Width, ob.Top+ob.Height/2)
	b.frame()
	var width float64
	b.eval(`__report.width`, &width)
	b.eval(`[__report.state.v0, __report.state.v1]`, &after)
	assert.InDelta(t, 0.2*width, after[0], 0.02*width)
	assert.InDelta(t, 0.4*width, after[1], 0.02*width)

	// Filters: double-click resets, then stress events only, then one request.
	b.mouse("mousePressed", x, y+top, map[string]any{"button": "left", "buttons": 1, "clickCount": 2})
	b.mouse("mouseReleased", x, y+top, map[string]any{"button": "left", "buttons": 0, "clickCount": 2})
	b.frame()
	b.eval(`(function () { var s = document.getElementById("level"); s.value = "stress"; s.dispatchEvent(new Event("change")); return true; })()`, nil)
	b.frame()
	b.eval(`+document.getElementById("list").getAttribute("data-total")`, &rows)
	assert.Equal(t, 8, rows, "every stress event, nothing else")
	b.eval(`(function () { var s = document.getElementById("level"); s.value = "all"; s.dispatchEvent(new Event("change")); document.getElementById("req").focus(); return true; })()`, nil)
	b.call("Input.insertText", map[string]any{"text": "req-b"})
	b.frame()
	var reqRows []string
	b.eval(`Array.prototype.map.call(document.querySelectorAll("#list .row"), function (r) { return __report.data.reqs[__report.data.r[+r.getAttribute("data-i")]]; })`, &reqRows)
	require.NotEmpty(t, reqRows)
	for _, r := range reqRows {
		assert.Equal(t, "req-b", r)
	}
	b.screenshot(filepath.Join(shots, "report-1400x900-request.png"))

	// A phone: the list and details below the chart, nothing wider than
	// the screen.
	p := newBrowser(t, path)
	p.open("file://"+out, 390, 844, true)
	var layout struct{ ChartBottom, SideTop, ScrollWidth float64 }
	p.eval(`(function () { return {ChartBottom: document.getElementById("chartwrap").getBoundingClientRect().bottom,
		SideTop: document.getElementById("side").getBoundingClientRect().top, ScrollWidth: document.documentElement.scrollWidth}; })()`, &layout)
	assert.GreaterOrEqual(t, layout.SideTop, layout.ChartBottom-1, "stacked")
	assert.LessOrEqual(t, layout.ScrollWidth, 390.0, "no sideways scrolling")
	p.eval(`__report.stress`, &n)
	assert.Equal(t, 8, n)
	p.screenshot(filepath.Join(shots, "report-390x844.png"))
}

func jsonQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func itoa(i int) string { return strconv.Itoa(i) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestMeasureReport loads the report at $DEBUGLOG_REPORT in Chromium and
// logs how long its script took to draw it (a figure for the guide, never an
// assertion), with screenshots into $DEBUGLOG_SCREENSHOTS. Skipped otherwise.
func TestMeasureReport(t *testing.T) {
	report, path := os.Getenv("DEBUGLOG_REPORT"), findChromium()
	if report == "" || path == "" {
		t.Skip("set DEBUGLOG_REPORT=FILE.html (and have chromium) to measure a report")
	}
	shots := os.Getenv("DEBUGLOG_SCREENSHOTS")
	for _, size := range [][2]int{{1400, 900}, {390, 844}} {
		b := newBrowser(t, path)
		b.open("file://"+report, size[0], size[1], size[0] < 500)
		var ms, drawn float64
		b.eval(`__report.renderMs`, &ms)
		b.eval(`+document.getElementById("chart").getAttribute("data-drawn")`, &drawn)
		t.Logf("%dx%d: script parsed and drew the report in %.0f ms (%.0f events drawn)", size[0], size[1], ms, drawn)
		if shots != "" {
			b.screenshot(filepath.Join(shots, fmt.Sprintf("%s-%dx%d.png", strings.TrimSuffix(filepath.Base(report), ".html"), size[0], size[1])))
		}
	}
}

// phoneLayout is where the parts of the page are on a phone, in CSS px of
// the viewport (after any scrolling), with the list's rows.
type phoneLayout struct {
	ViewportH, PageH                        float64
	ChartBottom, DetailsTop, DetailsH       float64
	DetailsScrollH, ListTop, ListH, ListRow float64
	Rows                                    int
}

func (b *browser) phoneLayout() phoneLayout {
	b.t.Helper()
	var l phoneLayout
	b.eval(`(function () {
		var r = function (id) { return document.getElementById(id).getBoundingClientRect(); }, d = document.getElementById("details"), list = document.getElementById("list");
		var row = list.querySelector(".row");
		return {ViewportH: window.innerHeight, PageH: document.documentElement.scrollHeight, ChartBottom: r("chartwrap").bottom,
			DetailsTop: r("details").top, DetailsH: d.clientHeight, DetailsScrollH: d.scrollHeight, ListTop: r("list").top, ListH: list.clientHeight,
			ListRow: row ? row.getBoundingClientRect().height : 0, Rows: +list.getAttribute("data-rows")};
	})()`, &l)
	return l
}

// tapEvent brings event i's lane into the chart's view (its lanes scroll
// within it on a phone, as a person's thumb would) and taps it.
func (b *browser) tapEvent(i int) {
	b.t.Helper()
	b.eval(`(function () { var s = document.getElementById("scroller"); s.scrollTop = Math.max(0, __report.Y(`+itoa(i)+`) - s.clientHeight / 2); return true; })()`, nil)
	var x, y, top float64
	b.eval(`__report.X(`+itoa(i)+`)`, &x)
	b.eval(`__report.Y(`+itoa(i)+`)`, &y)
	b.eval(`document.getElementById("chart").getBoundingClientRect().top`, &top)
	b.touch("touchStart", x, y+top)
	b.touch("touchEnd", x, y+top)
	b.frame()
}

// touch sends a touch event at (x, y) of the viewport.
func (b *browser) touch(typ string, x, y float64) {
	b.t.Helper()
	points := []map[string]any{{"x": x, "y": y}}
	if typ == "touchEnd" {
		points = []map[string]any{}
	}
	b.call("Input.dispatchTouchEvent", map[string]any{"type": typ, "touchPoints": points})
}

// TestReportOnAPhone: on a 390x844 touch screen, tapping an event shows
// its details below the chart, in view, with the list of events below
// them, neither squeezed to nothing; the lanes' labels are whole (a
// category too long for a line is broken in two after an underscore, so
// orchestrator_calls and orchestrator_health are not both "orchestrat…");
// a one-finger drag pans.
func TestReportOnAPhone(t *testing.T) {
	path, out, shots := browserReport(t)
	b := newBrowser(t, path)
	b.open("file://"+out, 390, 844, true)

	// The labels: every lane's, whole, told apart.
	var lanes []string
	var labels [][]string
	b.eval(`__report.lanes()`, &lanes)
	b.eval(`__report.labels()`, &labels)
	require.Len(t, labels, len(lanes))
	seen := map[string]string{}
	for n, lines := range labels {
		cat := lanes[n][strings.Index(lanes[n], " / ")+3:]
		text := strings.Join(lines, "")
		assert.Equal(t, cat, text, "%s: drawn whole, at most on two lines: %q", lanes[n], lines)
		assert.NotContains(t, text, "…", lanes[n])
		assert.LessOrEqual(t, len(lines), 2)
		key := lanes[n][:strings.Index(lanes[n], " / ")] + "\n" + strings.Join(lines, "\n") // under one system's heading
		assert.NotContains(t, seen, key, "%s is drawn as %s is", lanes[n], seen[key])
		seen[key] = lanes[n]
	}
	assert.Contains(t, labels, []string{"orchestrator_", "calls"})
	assert.Contains(t, labels, []string{"orchestrator_", "health"})

	// A tap on the breaker's opening: its details in view below the chart,
	// the list below them, both of a height of their own.
	var i int
	b.eval(`__report.data.names.indexOf("circuit_breaker_opened")`, &i)
	b.eval(`__report.data.n.indexOf(`+itoa(i)+`)`, &i)
	require.GreaterOrEqual(t, i, 0)
	b.tapEvent(i)
	var sel, effects int
	b.eval(`+document.getElementById("detailbody").getAttribute("data-sel")`, &sel)
	b.eval(`+document.getElementById("detailbody").getAttribute("data-effects")`, &effects)
	assert.Equal(t, i, sel, "a tap selects")
	assert.Positive(t, effects, "the breaker opening explains proxy effects")
	l := b.phoneLayout()
	assert.GreaterOrEqual(t, l.DetailsTop, l.ChartBottom-1, "the details below the chart")
	assert.Less(t, l.DetailsTop+100, l.ViewportH, "the details' first 100 px in view after the tap, without scrolling")
	assert.Greater(t, l.DetailsH, 100.0, "the details have a height")
	assert.LessOrEqual(t, l.DetailsH, 0.45*l.ViewportH+1, "and scroll within it, whatever their length")
	assert.GreaterOrEqual(t, l.ListTop, l.DetailsTop+l.DetailsH-1, "the list below the details")
	assert.Greater(t, l.ListH, 0.5*l.ViewportH, "the list keeps its height (it once collapsed to 0 px)")
	assert.Positive(t, l.Rows)
	assert.LessOrEqual(t, l.ListTop+l.ListH, l.PageH+1, "the page scrolls down to the whole list")
	b.screenshot(filepath.Join(shots, "report-390x844-selected.png"))
	// Scrolled down to it, the list is on the screen, whole, its rows there.
	b.eval(`document.getElementById("list").scrollIntoView(); true`, nil)
	b.frame()
	l = b.phoneLayout()
	assert.GreaterOrEqual(t, l.ListTop, -1.0)
	assert.LessOrEqual(t, l.ListTop+l.ListH, l.ViewportH+1, "the whole list on the screen")
	assert.Positive(t, l.ListRow, "its rows have a height")
	b.screenshot(filepath.Join(shots, "report-390x844-list.png"))
	b.eval(`window.scrollTo(0, 0); true`, nil)

	var before, after []float64
	b.eval(`window.__ev = []; ["pointerdown","pointermove","pointerup","pointercancel"].forEach(function (n) { document.getElementById("chart").addEventListener(n, function (e) { window.__ev.push(n + ":" + e.pointerType + ":" + Math.round(e.clientX)); }); }); true`, nil)
	// Zoomed all the way out there is nowhere to pan to: zoom on the middle first.
	b.eval(`(function () { var f = __report.fold(__report.data.t[`+itoa(i)+`]), w = __report.width; __report.setView(f - 0.15 * w, f + 0.15 * w); return true; })()`, nil)
	b.frame()
	var x, y, top float64
	b.eval(`__report.X(`+itoa(i)+`)`, &x)
	b.eval(`__report.Y(`+itoa(i)+`)`, &y)
	b.eval(`document.getElementById("chart").getBoundingClientRect().top`, &top)
	b.eval(`[__report.state.v0, __report.state.v1]`, &before)
	b.touch("touchStart", x, y+top)
	for k := 1; k <= 5; k++ {
		b.touch("touchMove", x-float64(k)*30, y+top)
	}
	b.touch("touchEnd", x-150, y+top)
	b.frame()
	b.eval(`[__report.state.v0, __report.state.v1]`, &after)
	var evs []string
	b.eval(`window.__ev`, &evs)
	assert.Greater(t, after[0], before[0], "a drag to the left shows later times: %v", evs)
}

// TestReportPhoneCausesListScrolls: an incident that explains many proxy
// effects lists them in a box of its own that scrolls, so that on a phone
// the details keep their height and the list of events stays below them.
func TestReportPhoneCausesListScrolls(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no Chromium on this machine: apt-get install chromium to run this test")
	}
	out := filepath.Join(t.TempDir(), "storm.html")
	code, _, errOut := debuglog("report", "--proxy", writeStorm(t, 40), "--orch", orchDir, "-o", out)
	require.Equal(t, 0, code, errOut)
	b := newBrowser(t, chromium)
	b.open("file://"+out, 390, 844, true)
	var i int
	b.eval(`__report.data.names.indexOf("circuit_breaker_opened")`, &i)
	b.eval(`__report.data.n.indexOf(`+itoa(i)+`)`, &i)
	require.GreaterOrEqual(t, i, 0)
	b.tapEvent(i)
	var box struct {
		N                     int
		Overflow              string
		ClientH, ScrollH, Top float64
	}
	b.eval(`(function () { var e = document.getElementById("effects"); return {N: e.children.length, Overflow: getComputedStyle(e).overflowY,
		ClientH: e.clientHeight, ScrollH: e.scrollHeight, Top: e.getBoundingClientRect().top}; })()`, &box)
	assert.GreaterOrEqual(t, box.N, 40, "every effect it explains is listed")
	assert.Equal(t, "auto", box.Overflow)
	assert.Greater(t, box.ScrollH, box.ClientH+10, "more than it shows: it scrolls")
	assert.Positive(t, box.ClientH)
	var scrolled float64
	b.eval(`(function () { var e = document.getElementById("effects"); e.scrollTop = 1e6; return e.scrollTop; })()`, &scrolled)
	assert.Positive(t, scrolled, "it scrolls")
	l := b.phoneLayout()
	assert.LessOrEqual(t, l.DetailsH, 0.45*l.ViewportH+1)
	assert.Greater(t, l.ListH, 0.5*l.ViewportH, "the list below keeps its height")
}
