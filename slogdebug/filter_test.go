package slogdebug

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/stress"
)

// logEveryKind logs, through l, a record of each kind a proxy logs: typed
// helpers, plain slog with a category at Debug and at Info, the program's
// own Debug line, and a stress event.
func logEveryKind(l *Logger) {
	ctx := context.Background()
	l.LogRequest(ctx, "GET", "/ace/getstream", time.Millisecond, 200, "helper-request")
	l.LogProvisioning(ctx, "provision_success", time.Millisecond, true, nil, 0)
	l.With(category.Key, category.OrchestratorCalls).Debug("plain-category-debug")
	l.With(category.Key, category.Provisioning).Info("plain-category-info")
	l.Debug("own-debug-line")
	l.Debug("record-category-debug", category.Key, category.Streams)
	l.LogStressEvent(ctx, stress.Event{Type: "engine_stalled", Level: slog.LevelWarn, Description: "stalled"})
}

func TestDebugConsoleKeepsCategoryRecordsInTheFiles(t *testing.T) {
	l, console := newDebugLogger(t, Config{ConsoleLevel: slog.LevelDebug, OrchestratorCalls: true})
	logEveryKind(l)
	require.NoError(t, l.Flush())
	out := console.String()
	assert.Contains(t, out, "own-debug-line", "the program's own Debug lines, as before")
	assert.Contains(t, out, "engine_stalled", "stress events, as before")
	assert.Contains(t, out, "plain-category-info", "Info and above, as before")
	for _, s := range []string{"helper-request", "provision_success", "plain-category-debug", "record-category-debug"} {
		assert.NotContains(t, out, s, "a category record below Info stays in the files")
	}
	assert.Len(t, readFile(t, l, "requests"), 1)
	assert.Len(t, readFile(t, l, "orchestrator_calls"), 1)
	assert.Len(t, readFile(t, l, "streams"), 1)
}

func TestConsoleCategoriesAsked(t *testing.T) {
	l, console := newDebugLogger(t, Config{ConsoleLevel: slog.LevelDebug, ConsoleCategories: true})
	logEveryKind(l)
	require.NoError(t, l.Flush())
	for _, s := range []string{"own-debug-line", "engine_stalled", "helper-request", "provision_success", "plain-category-debug", "record-category-debug"} {
		assert.Contains(t, console.String(), s)
	}
}

func TestConsoleOfYourOwnKeepsCategoryRecordsInTheFiles(t *testing.T) {
	var out syncWriter
	l, _ := newDebugLogger(t, Config{Console: slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})})
	logEveryKind(l)
	require.NoError(t, l.Flush())
	assert.Contains(t, out.String(), "own-debug-line")
	assert.Contains(t, out.String(), "plain-category-info")
	assert.NotContains(t, out.String(), "helper-request")
	assert.NotContains(t, out.String(), "plain-category-debug")
}

func TestCategoriesLeaveOneOut(t *testing.T) {
	l, _ := newDebugLogger(t, Config{Categories: []string{"-orchestrator_calls", "-requests"}, StressCooldown: -1})
	ctx := context.Background()
	logEveryKind(l)
	l.LogRequest(ctx, "GET", "/ace/getstream", time.Minute, 200, "slow") // not watched either
	require.NoError(t, l.Flush())
	assert.NoFileExists(t, l.Path("orchestrator_calls"))
	assert.NoFileExists(t, l.Path("requests"))
	assert.Len(t, readFile(t, l, "provisioning"), 2)
	assert.Len(t, readFile(t, l, "streams"), 1)
	for _, ev := range readFile(t, l, "stress") {
		assert.NotEqual(t, stressevent.SlowRequest, ev["event_type"], "a category left out is not watched")
	}
	assert.Equal(t, "-orchestrator_calls,-requests", readFile(t, l, "session")[0]["config"].(map[string]any)["categories"])

	// It costs a typed helper one comparison.
	if !raceEnabled {
		assert.Zero(t, callerAllocs(func() { l.LogRequest(ctx, "GET", "/x", time.Second, 200, "a", slog.Int("n", 1)) }))
	}
}

// TestCategoriesNeverDropASelectedOne: a record that names a selected
// category of its own is written whatever category its logger (or typed
// helper) has bound, left out or not; the bound one's records are not.
func TestCategoriesNeverDropASelectedOne(t *testing.T) {
	l, _ := newDebugLogger(t, Config{Categories: []string{"-requests"}, DisableStress: true}) // orchestrator_calls out too: the default
	ctx := context.Background()
	calls := l.With(category.Key, category.OrchestratorCalls)
	calls.Debug("dropped: its logger's category is left out")
	calls.Debug("kept: a selected category of its own", category.Key, category.Provisioning)
	calls.With(category.Key, category.Streams).Debug("kept: bound again, to a selected one")
	l.LogRequest(ctx, "GET", "/x", time.Second, 200, "a")                                      // left out
	l.LogRequest(ctx, "GET", "/y", time.Second, 200, "a", slog.String(category.Key, "errors")) // the caller's category wins
	require.NoError(t, l.Flush())
	assert.NoFileExists(t, l.Path("orchestrator_calls"))
	assert.NoFileExists(t, l.Path("requests"))
	prov := readFile(t, l, "provisioning")
	require.Len(t, prov, 1)
	assert.Equal(t, "kept: a selected category of its own", prov[0]["msg"])
	assert.Len(t, readFile(t, l, "streams"), 1)
	errs := readFile(t, l, "errors")
	require.Len(t, errs, 1)
	assert.Equal(t, "/y", errs[0]["path"])
}

func TestCategoriesOnlyThose(t *testing.T) {
	l, _ := newDebugLogger(t, Config{Categories: []string{"requests", "errors"}})
	ctx := context.Background()
	logEveryKind(l)
	l.LogError(ctx, "proxy", "engine_request", errors.New("refused"))
	require.NoError(t, l.Close())
	assert.Len(t, readFile(t, l, "requests"), 1)
	assert.Len(t, readFile(t, l, "errors"), 1)
	for _, cat := range []string{"provisioning", "orchestrator_calls", "streams", "stress"} {
		assert.NoFileExists(t, l.Path(cat))
	}
	session := readFile(t, l, "session")
	assert.Equal(t, "session_end", session[len(session)-1]["event"], "the session file is always written")
}

// TestOrchestratorCallsOnlyWhenAsked: orchestrator_calls, a line per call
// to the orchestrator, is written only with OrchestratorCalls
// (DEBUG_ORCHESTRATOR_CALLS) or when Categories names it to write.
func TestOrchestratorCallsOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		cfg   Config
		calls bool
	}{
		{Config{}, false},
		{Config{OrchestratorCalls: true}, true},
		{Config{Categories: []string{"-errors"}}, false},
		{Config{Categories: []string{"-errors"}, OrchestratorCalls: true}, true},
		{Config{Categories: []string{"requests"}}, false},
		{Config{Categories: []string{"requests"}, OrchestratorCalls: true}, true},
		{Config{Categories: []string{"requests", "orchestrator_calls"}}, true},
	} {
		l, _ := newDebugLogger(t, tc.cfg)
		calls := l.With(category.Key, category.OrchestratorCalls)
		assert.Equal(t, tc.calls, calls.Handler().(category.Selector).Selected(category.OrchestratorCalls), "%+v", tc.cfg)
		calls.Debug("orchestrator_call")
		l.LogRequest(ctx, "GET", "/a", time.Millisecond, 200, "")
		require.NoError(t, l.Close())
		if tc.calls {
			assert.Len(t, readFile(t, l, "orchestrator_calls"), 1)
		} else {
			assert.NoFileExists(t, l.Path("orchestrator_calls"), "%+v", tc.cfg)
		}
		assert.Len(t, readFile(t, l, "requests"), 1, "the others as before")
		assert.Equal(t, tc.calls, readFile(t, l, "session")[0]["config"].(map[string]any)["orchestrator_calls"], "session_start says")
	}

	cfg, err := configFromMap(map[string]string{"DEBUG_ORCHESTRATOR_CALLS": "true"})
	require.NoError(t, err)
	assert.True(t, settings(t, cfg).OrchestratorCalls)
	_, err = configFromMap(strict(map[string]string{"DEBUG_ORCHESTRATOR_CALLS": "true", "DEBUG_CATEGORIES": "-orchestrator_calls"}))
	assert.ErrorContains(t, err, `DEBUG_ORCHESTRATOR_CALLS="true": want false while DEBUG_CATEGORIES leaves orchestrator_calls out`)
	assert.ErrorContains(t, Config{OrchestratorCalls: true, Categories: []string{"-orchestrator_calls"}}.Validate(),
		"OrchestratorCalls true: want false while Categories leaves orchestrator_calls out")
}

func TestCategoriesFromEnv(t *testing.T) {
	cfg, err := configFromMap(map[string]string{"DEBUG_CATEGORIES": " -orchestrator_calls , ", "DEBUG_CONSOLE_CATEGORIES": "yes"})
	require.NoError(t, err)
	assert.Equal(t, []string{"-orchestrator_calls"}, cfg.Categories)
	assert.True(t, cfg.ConsoleCategories)

	for v, want := range map[string]string{
		"requests,-errors":    `DEBUG_CATEGORIES="requests,-errors": want either the categories to write`,
		"-orchestrator_call":  `did you mean "orchestrator_calls"?`,
		"session":             `want categories other than "session"`,
		"Requests":            `want a category as the files name it`,
		"requests,my_own_cat": "",
	} {
		_, err := configFromMap(strict(map[string]string{"DEBUG_CATEGORIES": v}))
		if want == "" {
			assert.NoError(t, err, v)
			continue
		}
		require.Error(t, err, v)
		assert.Contains(t, err.Error(), want, v)
	}
	_, err = configFromMap(strict(map[string]string{"DEBUG_CONSOLE_CATEGORIES": "maybe"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `DEBUG_CONSOLE_CATEGORIES="maybe": want true/false`)
	_, err = New(Config{Categories: []string{"requests", "-errors"}}, os.Stderr)
	require.Error(t, err, "New checks a Config built in code the same way")
	assert.Contains(t, err.Error(), "Categories")
}

// TestTheSelectionFollowsTheLastBoundCategory: DEBUG_CATEGORIES decides on
// the category a record ends up with: a logger that bound a category left
// out and then binds a selected one writes; the typed helpers of a logger
// that binds a category of its own write (or not) as that category.
func TestTheSelectionFollowsTheLastBoundCategory(t *testing.T) {
	ctx := context.Background()
	l, _ := newDebugLogger(t, Config{Categories: []string{"-orchestrator_calls"}, DisableStress: true})
	calls := l.With("category", "orchestrator_calls")
	calls.Debug("left out")
	calls.LogRequest(ctx, "GET", "/engines", time.Millisecond, 200, "") // its category is orchestrator_calls
	l.Debug("left out, as its file would name it", "category", "Orchestrator Calls")
	l.With("category", "ORCHESTRATOR_CALLS").Debug("left out, bound as its file would name it")
	rebound := calls.With("category", "requests")
	rebound.Debug("selected again")
	rebound.LogRequest(ctx, "GET", "/ace/getstream", time.Millisecond, 200, "a")
	l.LogRequest(ctx, "GET", "/ace/getstream", time.Millisecond, 200, "b")
	require.NoError(t, l.Flush())
	assert.NoFileExists(t, l.Path("orchestrator_calls"))
	var msgs []string
	for _, m := range readFile(t, l, "requests") {
		msgs = append(msgs, m["msg"].(string)+" "+fmt.Sprint(m["ace_id"]))
	}
	assert.Equal(t, []string{"selected again <nil>", "request a", "request b"}, msgs)

	only, _ := newDebugLogger(t, Config{Categories: []string{"orchestrator_calls"}, DisableStress: true})
	only.With("category", "orchestrator_calls").LogRequest(ctx, "GET", "/engines", time.Millisecond, 200, "")
	only.LogRequest(ctx, "GET", "/ace/getstream", time.Millisecond, 200, "")
	require.NoError(t, only.Flush())
	assert.Len(t, readFile(t, only, "orchestrator_calls"), 1)
	assert.NoFileExists(t, only.Path("requests"))
}
