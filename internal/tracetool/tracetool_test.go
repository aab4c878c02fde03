package tracetool

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestParsedRefusesWhatIsNoTrace: a file cut short or of another kind is
// an error that names the command and says what it found.
func TestParsedRefusesWhatIsNoTrace(t *testing.T) {
	if _, err := GoCommand(); err != nil {
		t.Skipf("no go command: %v", err)
	}
	path := filepath.Join(t.TempDir(), "x.trace")
	require.NoError(t, os.WriteFile(path, []byte("not a trace\n"), 0o600))
	_, err := Parsed(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "go tool trace -d=parsed "+path)
}
