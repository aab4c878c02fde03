package debuglog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadFile feeds arbitrary file contents to the reader: it must never
// panic, and every event it yields must have come from a whole JSON object.
func FuzzReadFile(f *testing.F) {
	f.Add([]byte(`{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:16+00:00", "x": null}` + "\n"))
	f.Add([]byte("garbage\n{\"timestamp\": 5}\n{\"a\":"))
	f.Add([]byte("\n\n[]\nnull\n{\"timestamp\":\"2026-11-26T10:17:16.123456789Z\",\"level\":\"DEBUG\",\"msg\":\"m\"}"))
	f.Add([]byte(`{"timestamp":"2026-11-26T10:17:16Z","category":"a\u001b]0;x\u0007\nFORGED","msg":"\u009b31m","k\u202e":"\u2028v"}` + "\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "20261126_101715_fuzz.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var warnings bytes.Buffer
		n := 0
		err := readFile(context.Background(), file{path: path, session: "20261126_101715", category: "fuzz", system: guessSystem(context.Background(), path)}, newWarner(&warnings), func(ev *Event) bool {
			n++
			if ev.Fields == nil || ev.Line < 1 {
				t.Fatalf("bad event %+v", ev)
			}
			// Whatever the file holds, a timeline line is one line that
			// drives nothing on a terminal.
			for _, r := range formatEvent(ev) {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
					t.Fatalf("control character %U in %q", r, formatEvent(ev))
				}
			}
			_ = topicsOf(ev)
			_ = kindOf(ev)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if n > bytes.Count(data, []byte{'\n'})+1 {
			t.Fatalf("%d events from %d lines", n, bytes.Count(data, []byte{'\n'})+1)
		}
	})
}
