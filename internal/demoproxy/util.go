package demoproxy

import (
	"context"
	"time"
)

// contextWithoutCancel keeps ctx's values (the request IDs) without its
// cancellation, bounded by timeout.
func contextWithoutCancel(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}
