// Package registration is an example of application code that uses the
// connector group members client: it makes sure a machine's connector is a
// member of an application's group, whatever state the group is in.
package registration

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
)

// Ensure makes the connector with id a member of app's group, adding it if
// it is not there yet. Calling it twice is harmless.
func Ensure(ctx context.Context, c *client.Client, app, id uuid.UUID, machine, ip string) error {
	_, err := c.GetMember(ctx, app, id)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, client.ErrNotFound):
		return fmt.Errorf("looking for %s: %w", machine, err)
	}
	_, err = c.AddMember(ctx, app, client.Connector{ID: &id, ExternalIP: ip, MachineName: machine, Status: "active"})
	if err != nil && !errors.Is(err, client.ErrAlreadyMember) {
		return fmt.Errorf("adding %s: %w", machine, err)
	}
	return nil
}
