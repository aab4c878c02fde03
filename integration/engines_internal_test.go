package integration

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEngineTimesDecodeLeniently(t *testing.T) {
	var engines []engineJSON
	require.NoError(t, json.Unmarshal([]byte(`[
		{"container_id":"a","host":"h","port":1,"first_seen":"2026-11-26T10:16:20.283738+00:00","last_seen":"2026-11-26T10:16:20Z",
		 "last_health_check":"2026-11-26T10:16:20.5","last_stream_usage":null,"streams":["s1","s2"],"health_status":"healthy","forwarded":true},
		{"container_id":"b","host":"h","port":2,"first_seen":"yesterday","last_seen":12,"last_stream_usage":"","stream_count":4,"streams":[]}
	]`), &engines))
	require.Len(t, engines, 2)
	a, b := Engine(engines[0]), Engine(engines[1])
	assert.Equal(t, time.Date(2026, 11, 26, 10, 16, 20, 283738000, time.UTC), a.FirstSeen.UTC())
	assert.Equal(t, time.Date(2026, 11, 26, 10, 16, 20, 0, time.UTC), a.LastSeen)
	assert.Equal(t, time.Date(2026, 11, 26, 10, 16, 20, 500000000, time.UTC), a.LastHealthCheck, "no zone: UTC")
	assert.True(t, a.LastStreamUsage.IsZero())
	assert.Equal(t, 2, a.ActiveStreams)
	assert.True(t, a.Forwarded)
	assert.Equal(t, "healthy", a.Health)
	assert.True(t, b.FirstSeen.IsZero(), "an odd time is zero, not an error")
	assert.True(t, b.LastSeen.IsZero())
	assert.Equal(t, 4, b.ActiveStreams, "stream_count wins when sent")

	var bad []engineJSON
	assert.Error(t, json.Unmarshal([]byte(`[{"container_id":7}]`), &bad), "a wrong type elsewhere is still an error")
}

func TestEngineCacheExpiresAndNeverKeepsAFailure(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	ec := &engineCache{ttl: 2 * time.Second, now: func() time.Time { return now }, fetching: make(chan struct{}, 1)}
	calls := 0
	var fail error
	fetch := func(context.Context) ([]Engine, error) {
		calls++
		if fail != nil {
			return nil, fail
		}
		return []Engine{{ContainerID: "c"}}, nil
	}
	ctx := context.Background()

	_, cached, err := ec.get(ctx, fetch)
	require.NoError(t, err)
	assert.False(t, cached)
	now = now.Add(1999 * time.Millisecond)
	_, cached, _ = ec.get(ctx, fetch)
	assert.True(t, cached)
	assert.Equal(t, 1, calls)

	now = now.Add(time.Millisecond) // 2s old: expired
	fail = errors.New("orchestrator down")
	_, _, err = ec.get(ctx, fetch)
	require.ErrorIs(t, err, fail)
	_, _, err = ec.get(ctx, fetch)
	require.ErrorIs(t, err, fail, "a failure is not cached, and neither is the stale list served")
	assert.Equal(t, 3, calls)

	fail = nil
	list, cached, err := ec.get(ctx, fetch)
	require.NoError(t, err)
	assert.False(t, cached)
	assert.Len(t, list, 1)
	assert.Equal(t, 4, calls)
}

func TestEngineCacheWaiterFetchesItselfWhenTheSharedFetchFails(t *testing.T) {
	ec := &engineCache{ttl: time.Hour, now: time.Now, fetching: make(chan struct{}, 1)}
	inLeader := make(chan struct{})
	releaseLeader := make(chan struct{})
	leaderErr := errors.New("the leader's request was canceled")
	leader := func(context.Context) ([]Engine, error) {
		close(inLeader)
		<-releaseLeader
		return nil, leaderErr
	}
	done := make(chan error)
	go func() {
		_, _, err := ec.get(context.Background(), leader)
		done <- err
	}()
	<-inLeader

	waiterDone := make(chan []Engine)
	go func() {
		list, _, err := ec.get(context.Background(), func(context.Context) ([]Engine, error) {
			return []Engine{{ContainerID: "own"}}, nil
		})
		assert.NoError(t, err)
		waiterDone <- list
	}()
	// Whether the waiter joins the leader's fetch or arrives after it
	// failed (failures are not cached), it ends with a list of its own.
	close(releaseLeader)
	require.ErrorIs(t, <-done, leaderErr)
	list := <-waiterDone
	require.Len(t, list, 1)
	assert.Equal(t, "own", list[0].ContainerID)
}

func TestEngineCacheWaiterStopsWithItsContext(t *testing.T) {
	ec := &engineCache{ttl: time.Hour, now: time.Now, fetching: make(chan struct{}, 1)}
	inLeader := make(chan struct{})
	releaseLeader := make(chan struct{})
	go func() {
		_, _, _ = ec.get(context.Background(), func(context.Context) ([]Engine, error) {
			close(inLeader)
			<-releaseLeader
			return []Engine{}, nil
		})
	}()
	<-inLeader
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := ec.get(ctx, func(context.Context) ([]Engine, error) { panic("must not fetch") })
	require.ErrorIs(t, err, context.Canceled)
	close(releaseLeader)
}

func TestEngineCacheDropsAListOlderThanAProvisioning(t *testing.T) {
	ec := &engineCache{ttl: time.Hour, now: time.Now, fetching: make(chan struct{}, 1)}
	calls := 0
	fetch := func(context.Context) ([]Engine, error) {
		calls++
		return []Engine{{ContainerID: "c"}}, nil
	}
	ctx := context.Background()
	_, _, _ = ec.get(ctx, fetch)
	ec.invalidate()
	_, cached, _ := ec.get(ctx, fetch)
	assert.False(t, cached)
	assert.Equal(t, 2, calls)

	// A fetch that began before a provisioning answers its caller but is
	// not kept: it may not list the new engine.
	ec.invalidate()
	_, _, _ = ec.get(ctx, func(context.Context) ([]Engine, error) {
		ec.invalidate()
		return []Engine{{ContainerID: "stale"}}, nil
	})
	list, cached, _ := ec.get(ctx, fetch)
	assert.False(t, cached)
	assert.Equal(t, "c", list[0].ContainerID)
}
