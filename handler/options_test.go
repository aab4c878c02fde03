package handler

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/config"
)

// TestValidateBoundsEveryOption names every out-of-range option, each as an
// *config.OptionError, before any handler is made.
func TestValidateBoundsEveryOption(t *testing.T) {
	err := Options{
		SessionID: "a b", QueueBytes: 2 << 30, FlushInterval: time.Nanosecond, MaxLineBytes: 32 << 20,
		MaxCategories: config.MaxCategories + 1, MaxFileBytes: -2, MaxTotalBytes: 2 << 40, MaxSessions: -5,
		FileMode: 0o200, DirMode: 0o500,
	}.Validate()
	require.Error(t, err)
	var fields []string
	for _, e := range errors.Unwrap(err).(interface{ Unwrap() []error }).Unwrap() {
		var oe *config.OptionError
		require.ErrorAs(t, e, &oe)
		fields = append(fields, oe.Field)
	}
	assert.Equal(t, []string{"SessionID", "QueueBytes", "FlushInterval", "MaxLineBytes", "MaxFileBytes", "MaxTotalBytes", "MaxSessions", "MaxCategories", "FileMode", "DirMode"}, fields)
	assert.ErrorContains(t, err, "FlushInterval 1ns: want 1ms to 1h0m0s")
	assert.ErrorContains(t, err, "MaxCategories 1025: want 1 to")

	assert.NoError(t, Options{}.Validate(), "the defaults")
	assert.NoError(t, Options{FlushInterval: time.Hour, MaxFileBytes: -1, MaxTotalBytes: -1, MaxSessions: -1}.Validate())
	assert.ErrorContains(t, Options{MaxFileBytes: 600 << 20}.Validate(), "MaxTotalBytes 1073741824: want -1 (no budget) or at least twice MaxFileBytes (629145600)")
}
