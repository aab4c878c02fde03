package debuglog

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// browser drives a headless Chromium through the DevTools protocol over a
// pipe (--remote-debugging-pipe: NUL-terminated JSON messages, commands on
// its file descriptor 3, answers and events on 4). No websocket, no
// dependency.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      *os.File // our end of its fd 3
	out     *os.File // our end of its fd 4
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	events  chan cdpMessage
	done    chan struct{}
	session string
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    any             `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
	RawParams json.RawMessage `json:"-"`
}

// findChromium returns the browser's path, or "" when there is none.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// cdpTimeout bounds one command: a browser that does not answer is a hang.
const cdpTimeout = 60 * time.Second

func newBrowser(t *testing.T, path string) *browser {
	t.Helper()
	toBrowser, ours, err := os.Pipe() // it reads fd 3
	require.NoError(t, err)
	theirs, fromBrowser, err := os.Pipe() // it writes fd 4
	require.NoError(t, err)
	cmd := exec.Command(path, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
		"--hide-scrollbars", "--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	toBrowser.Close()
	fromBrowser.Close()
	b := &browser{t: t, cmd: cmd, in: ours, out: theirs, waiting: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 256), done: make(chan struct{})}
	go b.read()
	t.Cleanup(func() {
		b.in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.out.Close()
		<-b.done
		if t.Failed() {
			t.Logf("chromium's stderr: %s", stderr.String())
		}
	})
	return b
}

func (b *browser) read() {
	defer close(b.done)
	r := bufio.NewReaderSize(b.out, 1<<20)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		var raw struct {
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		_ = json.Unmarshal(msg[:len(msg)-1], &raw)
		m.RawParams = raw.Params
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.waiting[m.ID]
			delete(b.waiting, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case b.events <- m:
		default: // nobody waits for it
		}
	}
}

// call sends a command (to the page's session once attached) and returns
// its result.
func (b *browser) call(method string, params any) json.RawMessage {
	b.t.Helper()
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(cdpMessage{ID: id, Method: method, Params: params, SessionID: b.session})
	require.NoError(b.t, err)
	_, err = b.in.Write(append(msg, 0))
	require.NoError(b.t, err)
	select {
	case m := <-ch:
		if m.Error != nil {
			b.t.Fatalf("%s: %s", method, m.Error.Message)
		}
		return m.Result
	case <-time.After(cdpTimeout):
		b.t.Fatalf("%s: no answer from chromium", method)
		return nil
	}
}

// waitEvent waits for an event of the page.
func (b *browser) waitEvent(method string) {
	b.t.Helper()
	deadline := time.After(cdpTimeout)
	for {
		select {
		case m := <-b.events:
			if m.Method == method {
				return
			}
		case <-deadline:
			b.t.Fatalf("no %s from chromium", method)
		}
	}
}

// open attaches to a new page of the given size and loads url.
func (b *browser) open(url string, width, height int, mobile bool) {
	b.t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	require.NoError(b.t, json.Unmarshal(b.call("Target.createTarget", map[string]any{"url": "about:blank"}), &target))
	var att struct {
		SessionID string `json:"sessionId"`
	}
	require.NoError(b.t, json.Unmarshal(b.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &att))
	b.session = att.SessionID
	b.call("Page.enable", nil)
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
	if mobile {
		b.call("Emulation.setTouchEmulationEnabled", map[string]any{"enabled": true, "maxTouchPoints": 5})
	}
	b.call("Page.navigate", map[string]any{"url": url})
	b.waitEvent("Page.loadEventFired")
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	require.NoError(b.t, json.Unmarshal(b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}), &res))
	if res.ExceptionDetails != nil {
		b.t.Fatalf("%s: %s %s", expr, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	if v != nil {
		require.NoError(b.t, json.Unmarshal(res.Result.Value, v), "%s = %s", expr, res.Result.Value)
	}
}

// mouse sends a mouse event at (x, y) of the viewport.
func (b *browser) mouse(typ string, x, y float64, extra map[string]any) {
	b.t.Helper()
	p := map[string]any{"type": typ, "x": x, "y": y}
	for k, v := range extra {
		p[k] = v
	}
	b.call("Input.dispatchMouseEvent", p)
}

// click clicks at (x, y).
func (b *browser) click(x, y float64) {
	b.mouse("mouseMoved", x, y, nil)
	b.mouse("mousePressed", x, y, map[string]any{"button": "left", "buttons": 1, "clickCount": 1})
	b.mouse("mouseReleased", x, y, map[string]any{"button": "left", "buttons": 0, "clickCount": 1})
}

// drag drags from (x0, y0) to (x1, y1) in steps.
func (b *browser) drag(x0, y0, x1, y1 float64) {
	b.mouse("mouseMoved", x0, y0, nil)
	b.mouse("mousePressed", x0, y0, map[string]any{"button": "left", "buttons": 1, "clickCount": 1})
	for i := 1; i <= 5; i++ {
		f := float64(i) / 5
		b.mouse("mouseMoved", x0+(x1-x0)*f, y0+(y1-y0)*f, map[string]any{"button": "left", "buttons": 1})
	}
	b.mouse("mouseReleased", x1, y1, map[string]any{"button": "left", "buttons": 0, "clickCount": 1})
}

// screenshot writes a PNG of the viewport.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	require.NoError(b.t, json.Unmarshal(b.call("Page.captureScreenshot", map[string]any{"format": "png"}), &shot))
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
}

// frame waits for the page's next two animation frames (its redraws are
// scheduled on one).
func (b *browser) frame() {
	b.t.Helper()
	var ok bool
	var res struct {
		Result struct {
			Value bool `json:"value"`
		} `json:"result"`
	}
	raw := b.call("Runtime.evaluate", map[string]any{"expression": "new Promise(function (r) { requestAnimationFrame(function () { requestAnimationFrame(function () { r(true); }); }); })",
		"awaitPromise": true, "returnByValue": true})
	require.NoError(b.t, json.Unmarshal(raw, &res))
	ok = res.Result.Value
	require.True(b.t, ok, fmt.Sprintf("%s", raw))
}
