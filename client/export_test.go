package client

import (
	"context"
	"time"
)

// WithClock gives the client another clock: now reads the time (Retry-After
// dates, deadlines), sleep waits before a retry. Tests record the waits
// rather than spend them.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) error {
		c.now, c.sleep = now, sleep
		return nil
	}
}
