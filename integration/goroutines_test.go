package integration_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// panickingTransport panics in every round trip (a broken transport
// wrapper of the service's, say), and says when it was first called.
type panickingTransport struct {
	once   sync.Once
	called chan struct{}
}

func (p *panickingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	p.once.Do(func() { close(p.called) })
	panic("transport panics")
}

// TestPanicInAHealthPollIsRecovered: the health monitor polls on a
// goroutine of the library's; a poll that panics fails with the panic as
// its error, is reported, and the process goes on.
func TestPanicInAHealthPollIsRecovered(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir(), DefaultCategory: "other"}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	tr := &panickingTransport{called: make(chan struct{})}
	c, err := integration.New("http://orchestrator.invalid", log, integration.Options{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	m := c.MonitorHealth(context.Background(), time.Hour)
	<-tr.called
	m.Stop() // waits for the poll to end
	last := m.Last()
	require.NotNil(t, last)
	require.ErrorContains(t, last.Err, "transport panics")
	lines := 0
	for _, l := range (&env{log: log}).lines(t, "other") {
		if l["msg"] == "health monitor: a poll panicked; recovered, polling goes on" {
			lines++
		}
	}
	assert.Equal(t, 1, lines, "reported once")
}
