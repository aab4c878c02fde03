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

// FuzzParseCheckpoint feeds arbitrary bytes to ship's checkpoint reader:
// it must never panic, and a checkpoint it accepts makes sense and is
// read back the same once written.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte(`{"version":1,"host":"h","table":"debuglog","files":[{"dev":1,"ino":2,"gen":0,"offset":10,"line":1,"last_start":0,"last":"eyJhIjoxfQo=","path":"/x/20261126_101715_requests.jsonl"}]}`))
	f.Add([]byte(`{"version":1,"host":"h","table":"t","files":[{"dev":1,"ino":1,"offset":5,"last_start":9}]}`))
	f.Add([]byte(`{"version":1,"files":null}`))
	f.Add([]byte(`[]`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCheckpoint(data)
		if err != nil {
			return
		}
		for _, e := range c.Files {
			if e.Offset < 0 || e.LastStart > e.Offset || len(e.Last) > fingerprintLen {
				t.Fatalf("accepted a checkpoint that makes no sense: %+v", e)
			}
		}
		path := filepath.Join(dir, "ck.json")
		if err := writeCheckpoint(path, c); err != nil {
			t.Fatal(err)
		}
		again, err := loadCheckpoint(path)
		if err != nil {
			t.Fatalf("a checkpoint written is refused: %v", err)
		}
		if len(again.Files) != len(c.Files) || again.Host != c.Host || again.Table != c.Table {
			t.Fatalf("read back other than written: %+v, %+v", c, again)
		}
	})
}

// FuzzTSV: a field escaped for ClickHouse's TabSeparated comes back as it
// was, whatever its bytes, and unescaping arbitrary answers never panics.
func FuzzTSV(f *testing.F) {
	f.Add([]byte("a\tb\nc\\d\x00\xff"))
	f.Add([]byte(`\N\t\\`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if got := tsvUnescape(tsvEscape(nil, data)); !bytes.Equal(got, data) {
			t.Fatalf("%q came back as %q", data, got)
		}
		tsvUnescape(append([]byte(nil), data...))
	})
}
