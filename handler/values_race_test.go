package handler

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValuesUnderRacingCallersFlushAndClose: goroutines log values
// and records, interleaved, into a small queue (drops, callers encoding
// while the writer is behind) while others flush and then close: every
// line is whole and right (no entry read half-written or cleared by
// takeAhead), each goroutine's lines are in call order, and the counts
// add up.
func TestValuesUnderRacingCallersFlushAndClose(t *testing.T) {
	for _, block := range []bool{false, true} {
		t.Run(fmt.Sprint("block=", block), func(t *testing.T) {
			h := newTestHandler(t, Options{QueueBytes: 8 << 10, BlockWhenFull: block, FlushInterval: time.Hour})
			requests := h.WithAttrs([]slog.Attr{slog.String("category", "requests")}).(*Handler)
			sc, err := h.NewSchema(slog.LevelDebug, requestSchemaFields...)
			require.NoError(t, err)
			ctx := context.Background()
			const workers, n = 4, 4000
			var wg, logging sync.WaitGroup
			start := make(chan struct{})
			logging.Add(workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					id := strconv.Itoa(w)
					for i := range n {
						if i == 1 {
							logging.Done() // one record in: the closer may go
						}
						seq := strconv.Itoa(i)
						if i%4 == 3 {
							r := slog.NewRecord(time.Now(), slog.LevelDebug, "request", 0)
							r.AddAttrs(slog.String("method", id), slog.String("path", seq), slog.Duration("duration", time.Duration(i)*time.Millisecond))
							_ = requests.Handle(ctx, r)
						} else {
							v := Values{Str: [4]string{id, seq, id + "/" + seq}, Num: [3]int64{int64(i) * int64(time.Millisecond), int64(i), 1}}
							_ = requests.HandleValues(ctx, time.Now(), "request", sc, &v)
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				logging.Wait() // Flush and Close race with callers logging, not before them
				for range 10 {
					_ = h.Flush()
				}
				assert.NoError(t, h.Close())
			}()
			close(start)
			wg.Wait()

			last := map[string]int{}
			lines := readLines(t, h.Path("requests"))
			for _, m := range lines {
				id := m["method"].(string)
				seq, err := strconv.Atoi(m["path"].(string))
				require.NoError(t, err)
				if prev, ok := last[id]; ok {
					require.Greater(t, seq, prev, "worker %s", id)
				}
				last[id] = seq
				ms, _ := m["duration_ms"].(interface{ String() string })
				require.NotNil(t, ms, "%v", m)
				require.Equal(t, strconv.Itoa(seq)+".0", ms.String(), "%v", m)
				if seq%4 != 3 {
					require.Equal(t, id+"/"+m["path"].(string), m["ace_id"], "%v", m)
					require.Equal(t, strconv.Itoa(seq), fmt.Sprint(m["status_code"]), "%v", m)
				}
			}
			st := h.Stats().Categories["requests"]
			assert.Equal(t, uint64(len(lines)), st.Written)
			assert.Equal(t, uint64(workers*n), st.Written+st.Dropped+st.Failed)
		})
	}
}

// TestValuesMatchHandleUnderRedactionOptions: the line of
// HandleValues is Handle's for Schema.Record with redaction off, and with
// keys of the schema named secret, in and out of secret groups.
func TestValuesMatchHandleUnderRedactionOptions(t *testing.T) {
	for _, opts := range []Options{
		{NoRedaction: true},
		{RedactKeys: []string{"path", "duration", "ok", "error", "status_code"}},
		{RedactKeys: []string{"PATH", "Duration"}},
	} {
		h := newTestHandler(t, opts)
		sc, err := h.NewSchema(slog.LevelDebug, requestSchemaFields...)
		require.NoError(t, err)
		base := h.WithAttrs([]slog.Attr{slog.String("category", "requests")}).(*Handler)
		for _, hh := range []*Handler{base, base.WithGroup("auth").(*Handler), base.WithGroup("g").(*Handler), base.WithAttrs([]slog.Attr{slog.String("password", "p")}).(*Handler)} {
			for _, s := range []string{"", "http://u:p@h/x?token=t", "\xff\x00", "Bearer abc.def.ghi"} {
				v := Values{Str: [4]string{s, s, s}, Num: [3]int64{-1, 1 << 62, 0}}
				at := time.Now()
				require.NoError(t, hh.HandleValues(context.Background(), at, "request", sc, &v))
				require.NoError(t, hh.Handle(context.Background(), sc.Record(at, "request", &v)))
			}
		}
		require.NoError(t, h.Close())
		lines := rawLines(t, h.Path("requests"))
		require.Len(t, lines, 32)
		for i := 0; i < len(lines); i += 2 {
			require.Equal(t, lines[i+1], lines[i], "opts %+v line %d", opts, i)
		}
	}
}
