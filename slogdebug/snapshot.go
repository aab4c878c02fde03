package slogdebug

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/redact"
	ev "github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/internal/tracefile"
)

// goroutineProfile is Config.Goroutines' recorder: runtime/pprof's
// goroutine profile as text, each stack once with how many goroutines
// share it and its profiler labels (debug=1), every frame shown (the
// runtime's too: what a goroutine waits on, a channel or a lock, is
// there), redacted as the files are.
type goroutineProfile struct{ red *redact.Redactor }

func (g goroutineProfile) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return 0, err
	}
	n, err := io.WriteString(w, g.red.RedactText(string(withAllFrames(buf.Bytes()))))
	return int64(n), err
}

// withAllFrames rewrites a debug=1 goroutine profile with every frame of
// each stack, from its program counters (the head line's), where pprof
// leaves out the runtime's frames at the top.
func withAllFrames(profile []byte) []byte {
	var out bytes.Buffer
	var frames []byte // the current stack's, written after its labels
	flush := func() {
		out.Write(frames)
		frames = frames[:0]
	}
	for _, line := range bytes.Split(profile, []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("#\t")):
			if len(frames) == 0 { // a stack whose head was not read: keep pprof's own
				out.Write(line)
				out.WriteByte('\n')
			}
			continue
		case bytes.HasPrefix(line, []byte("# labels: ")):
			out.Write(line)
			out.WriteByte('\n')
			continue
		}
		flush()
		if pcs, ok := stackPCs(line); ok {
			frames = appendFrames(frames, pcs)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	flush()
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

// stackPCs reads a stack's head line, "COUNT @ 0xPC 0xPC ...".
func stackPCs(line []byte) ([]uintptr, bool) {
	count, rest, ok := bytes.Cut(line, []byte(" @ "))
	if !ok || len(count) == 0 {
		return nil, false
	}
	var pcs []uintptr
	for _, f := range bytes.Fields(rest) {
		pc, err := strconv.ParseUint(string(bytes.TrimPrefix(f, []byte("0x"))), 16, 64)
		if err != nil {
			return nil, false
		}
		pcs = append(pcs, uintptr(pc))
	}
	return pcs, len(pcs) > 0
}

// appendFrames appends pcs' frames as pprof writes them, goexit left out.
func appendFrames(b []byte, pcs []uintptr) []byte {
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function != "" && f.Function != "runtime.goexit" {
			b = fmt.Appendf(b, "#\t%#x\t%s+%#x\t%s:%d\n", f.PC, f.Function, f.PC-f.Entry, f.File, f.Line)
		}
		if !more {
			return b
		}
	}
}

func (goroutineProfile) Stop() {}

func startGoroutines(cfg Config, l *Logger) *execTrace {
	if !cfg.Goroutines || cfg.DisableStress {
		return nil
	}
	l.slowStart = max(cfg.stressOptions().Slow[category.Requests], 0) // the threshold stress detection uses
	return &execTrace{rec: goroutineProfile{red: redact.New(cfg.RedactKeys...)}, kind: tracefile.Goroutines, what: "goroutine snapshot",
		cooldown: config.DefaultGoroutinesCooldown, fileMode: cfg.FileMode, console: l.libConsole}
}

// perRecord reports whether a stress event is of one record (a slow start,
// a slow selection, a stall, a circuit breaker, a rule of the program's),
// which a goroutine snapshot may explain; a rate over a window, the
// orchestrator's state or dropped records are not.
func perRecord(event string) bool {
	switch event {
	case ev.HighSlowRequestRate, ev.HighProvisioningFailureRate, ev.OrchestratorDegraded, ev.OrchestratorRecovered, ev.RecordsDropped, ev.StressSuppressed:
		return false
	}
	return true
}

// SlowStartWatch is the requests' slow threshold while goroutine snapshots
// are on (stressevent.GoroutineSnapshots), 0 when off.
func (s *switchHandler) SlowStartWatch() time.Duration {
	st := s.l.st.Load()
	if s.l.gor == nil || st.stress == nil || st.files == nil {
		return 0
	}
	return s.l.slowStart
}

// GoroutineSnapshot writes a goroutine snapshot into the current session
// unless within the cooldown (stressevent.GoroutineSnapshots).
func (s *switchHandler) GoroutineSnapshot(event string) string {
	st := s.l.st.Load()
	if s.l.gor == nil || st.files == nil {
		return ""
	}
	return s.l.gor.snapshot(st.files, event, time.Now())
}

var _ ev.GoroutineSnapshots = (*switchHandler)(nil)
