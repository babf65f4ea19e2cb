package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
)

// groupsCommand manages the connector groups at the service's paths: what
// an Application Proxy script does besides adding members.
func groupsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "Create, list, show, update and delete connector groups; move connectors; assign applications",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("a command is required: list, get, create, update, delete, members, move or assign")
		},
	}
	cmd.AddCommand(groupsListCommand(g), groupsGetCommand(g), groupsCreateCommand(g), groupsUpdateCommand(g),
		groupsDeleteCommand(g), groupsMembersCommand(g), groupsMoveCommand(g), groupsAssignCommand(g))
	return cmd
}

func groupsListCommand(g *globals) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the connector groups (the default one first), page by page as they arrive",
		Args:  cobra.NoArgs,
		RunE: listPages(g, &f, &groupColumns, func(ctx context.Context, c *client.Client, opts []client.CallOption) iter.Seq2[[]client.Group, error] {
			return c.ListGroupPages(ctx, opts...)
		}),
	}
	f.add(cmd, "groups")
	return cmd
}

func groupsMembersCommand(g *globals) *cobra.Command {
	var id uuid.UUID
	var f listFlags
	cmd := &cobra.Command{
		Use:   "members --id GUID",
		Short: "List the members of a connector group, page by page as they arrive",
		Args:  cobra.NoArgs,
		RunE: listPages(g, &f, &memberColumns, func(ctx context.Context, c *client.Client, opts []client.CallOption) iter.Seq2[[]client.Member, error] {
			return c.ListGroupMemberPages(ctx, id, opts...)
		}),
	}
	guidFlag(cmd, &id, "id", "the group's GUID", true)
	f.add(cmd, "members")
	return cmd
}

func groupsGetCommand(g *globals) *cobra.Command {
	var id, app uuid.UUID
	cmd := &cobra.Command{
		Use:   "get (--id GUID | --app GUID)",
		Short: "Show a connector group, or the group of an application",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			byID, byApp := cmd.Flags().Changed("id"), cmd.Flags().Changed("app")
			if byID == byApp {
				return errors.New("give one of --id or --app")
			}
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			var group client.Group
			if byID {
				group, err = c.GetGroup(cmd.Context(), id)
			} else {
				group, err = c.ApplicationGroup(cmd.Context(), app)
			}
			if err != nil {
				return &failure{err}
			}
			return out.group(group)
		},
	}
	guidFlag(cmd, &id, "id", "the group's GUID", false)
	guidFlag(cmd, &app, "app", "an application's GUID: show the group it is assigned to", false)
	return cmd
}

// regionFlag is --region, checked against the spec's values.
func regionFlag(cmd *cobra.Command, region *string) {
	cmd.Flags().StringVar(region, "region", "", "the group's region, one of: "+strings.Join(regionValues(), ", "))
}

// regionValues lists the regions from the generated code, so the help
// follows the spec.
func regionValues() []string {
	var values []string
	for _, v := range generated.ConnectorGroupRegionValues() {
		values = append(values, string(v))
	}
	return values
}

// checkRegion refuses a region the spec does not list before any request.
func checkRegion(region string) (*client.Region, error) {
	if !slices.Contains(regionValues(), region) {
		return nil, fmt.Errorf("--region %q is not one of %s", region, strings.Join(regionValues(), ", "))
	}
	r := client.Region(region)
	return &r, nil
}

func groupsCreateCommand(g *globals) *cobra.Command {
	var in client.NewGroup
	var region string
	cmd := &cobra.Command{
		Use:   "create --name NAME [--region REGION]",
		Short: "Create a connector group",
		Long: "create makes a connector group and prints it. A create is not retried once the server may\n" +
			"have made the group (after a 504 or a lost connection): list the groups by name before trying again.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("region") {
				r, err := checkRegion(region)
				if err != nil {
					return err
				}
				in.Region = r
			}
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			group, err := c.CreateGroup(cmd.Context(), in)
			if err != nil {
				return &failure{err}
			}
			return out.group(group)
		},
	}
	cmd.Flags().StringVar(&in.Name, "name", "", "the group's name")
	_ = cmd.MarkFlagRequired("name")
	regionFlag(cmd, &region)
	return cmd
}

func groupsUpdateCommand(g *globals) *cobra.Command {
	var id uuid.UUID
	var name, region string
	cmd := &cobra.Command{
		Use:   "update --id GUID [--name NAME] [--region REGION]",
		Short: "Set a connector group's name or region (the others stay as they are)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var changes client.GroupChanges
			if cmd.Flags().Changed("name") {
				changes.Name = &name
			}
			if cmd.Flags().Changed("region") {
				r, err := checkRegion(region)
				if err != nil {
					return err
				}
				changes.Region = r
			}
			if changes == (client.GroupChanges{}) {
				return errors.New("nothing to update: give --name or --region")
			}
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			if err := c.UpdateGroup(cmd.Context(), id, changes); err != nil {
				return &failure{err}
			}
			group, err := c.GetGroup(cmd.Context(), id)
			if err != nil {
				return &failure{err}
			}
			return out.group(group)
		},
	}
	guidFlag(cmd, &id, "id", "the group's GUID", true)
	cmd.Flags().StringVar(&name, "name", "", "the group's new name")
	regionFlag(cmd, &region)
	return cmd
}

func groupsDeleteCommand(g *globals) *cobra.Command {
	var id uuid.UUID
	var ignoreNotFound bool
	cmd := &cobra.Command{
		Use:   "delete --id GUID",
		Short: "Delete a connector group that has no members and no applications",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			err = c.DeleteGroup(cmd.Context(), id)
			switch {
			case err == nil:
				return out.done(id, "deleted")
			case ignoreNotFound && errors.Is(err, client.ErrNotFound):
				return out.done(id, "no such group, nothing to delete")
			}
			return &failure{err}
		},
	}
	guidFlag(cmd, &id, "id", "the group's GUID", true)
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "succeed when there is no such group")
	return cmd
}

func groupsMoveCommand(g *globals) *cobra.Command {
	var group, connector uuid.UUID
	cmd := &cobra.Command{
		Use:   "move --group GUID --connector GUID",
		Short: "Move a connector the server knows into a group (it leaves the group it was in)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			if err := c.MoveConnector(cmd.Context(), group, connector); err != nil {
				return &failure{err}
			}
			return out.done(connector, "moved to "+group.String())
		},
	}
	guidFlag(cmd, &group, "group", "the group's GUID", true)
	guidFlag(cmd, &connector, "connector", "the connector's GUID", true)
	return cmd
}

func groupsAssignCommand(g *globals) *cobra.Command {
	var group, app uuid.UUID
	cmd := &cobra.Command{
		Use:   "assign --group GUID --app GUID",
		Short: "Assign an application to a connector group",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			if err := c.AssignApplication(cmd.Context(), app, group); err != nil {
				return &failure{err}
			}
			return out.done(app, "assigned to "+group.String())
		},
	}
	guidFlag(cmd, &group, "group", "the group's GUID", true)
	guidFlag(cmd, &app, "app", "the application's GUID", true)
	return cmd
}
