package category

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

type valuer string

func (v valuer) LogValue() slog.Value { return slog.StringValue(string(v)) }

// TestTheOneAnswer: the last non-empty "category" wins, the record's own
// over the bound ones; a LogValuer is resolved; other keys and empty values
// name nothing.
func TestTheOneAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bound []slog.Attr
		own   []slog.Attr
		want  string
	}{
		{"none", nil, []slog.Attr{slog.String("k", "v")}, ""},
		{"bound", []slog.Attr{slog.String(Key, "requests")}, nil, "requests"},
		{"the record's own wins", []slog.Attr{slog.String(Key, "requests")}, []slog.Attr{slog.String(Key, "stress")}, "stress"},
		{"the last bound wins", []slog.Attr{slog.String(Key, "requests"), slog.String(Key, "orchestrator_calls")}, nil, "orchestrator_calls"},
		{"an empty value names nothing", []slog.Attr{slog.String(Key, "requests")}, []slog.Attr{slog.String(Key, "")}, "requests"},
		{"a LogValuer is resolved", nil, []slog.Attr{slog.Any(Key, valuer("errors"))}, "errors"},
		{"inside a group it is an attribute", nil, []slog.Attr{slog.Group("g", slog.String(Key, "x"))}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := slog.Record{}
			r.AddAttrs(tc.own...)
			assert.Equal(t, tc.want, InRecord(Bound("", tc.bound), r))
		})
	}
}
