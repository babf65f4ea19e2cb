package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the API or the network said no
	exitUsage = 2 // the command line is wrong
)

const defaultServer = "http://127.0.0.1:8080"

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// command is one subcommand: its flags and what it does with a client.
type command struct {
	name, args, summary string
	flags               func(fs *flag.FlagSet) func(ctx context.Context, c *client.Client, out *printer) error
}

func commands() []command {
	return []command{
		{"add", "--app ID --machine-name NAME --external-ip IP --status S [--id ID]", "add a connector to the group", addFlags},
		{"list", "--app ID [--page-size N]", "list the members of the group", listFlags},
		{"get", "--app ID --id ID", "show one member", getFlags},
		{"remove", "--app ID --id ID", "remove a member from the group", removeFlags},
	}
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "connectorctl: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return exitUsage
	}

	fs := flag.NewFlagSet("connectorctl "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr(lookup, "CONNECTORCTL_SERVER", defaultServer), "the API's base `URL` (env CONNECTORCTL_SERVER)")
	token := fs.String("token", envOr(lookup, "CONNECTORCTL_TOKEN", ""), "bearer `token` (env CONNECTORCTL_TOKEN)")
	output := fs.String("output", "table", "output `format`: table or json")
	action := cmd.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: connectorctl %s %s\n\n%s.\n\nFlags:\n", cmd.name, cmd.args, capitalize(cmd.summary))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage(stderr, fs, usagef("unexpected argument %q", fs.Arg(0)))
	}
	out, err := newPrinter(*output, stdout)
	if err != nil {
		return usage(stderr, fs, err)
	}
	var opts []client.Option
	if *token != "" {
		opts = append(opts, client.WithToken(*token))
	}
	c, err := client.New(*server, append(opts, client.WithUserAgent("connectorctl"))...)
	if err != nil {
		return usage(stderr, fs, usagef("--server: %v", err))
	}
	if err := action(ctx, c, out); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return usage(stderr, fs, err)
		}
		printError(stderr, err)
		return exitError
	}
	return exitOK
}

func usage(stderr io.Writer, fs *flag.FlagSet, err error) int {
	fmt.Fprintf(stderr, "connectorctl: %v\n\n", err)
	fs.Usage()
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: connectorctl <command> [flags]")
	fmt.Fprintln(w, "\nManages the members of an application's connector group.\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --server (env CONNECTORCTL_SERVER, default "+defaultServer+"),")
	fmt.Fprintln(w, "--token (env CONNECTORCTL_TOKEN) and --output table|json.")
	fmt.Fprintln(w, "Run 'connectorctl <command> --help' for its flags.")
}

// printError writes an API error's code, message, details and request-id.
func printError(w io.Writer, err error) {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		fmt.Fprintf(w, "connectorctl: %v\n", err)
		return
	}
	fmt.Fprintf(w, "connectorctl: %s: %s\n", ae.Code, ae.Message)
	for _, d := range ae.Details {
		target := "body"
		if d.Target != nil {
			target = *d.Target
		}
		fmt.Fprintf(w, "  %s: %s\n", target, d.Message)
	}
	fmt.Fprintf(w, "  status: %d\n  request-id: %s\n", ae.StatusCode, ae.RequestID)
}

func envOr(lookup func(string) (string, bool), name, fallback string) string {
	if v, ok := lookup(name); ok && v != "" {
		return v
	}
	return fallback
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// uuidFlag is a required GUID flag.
type uuidFlag struct {
	name  string
	value *uuid.UUID
	set   bool
}

func (f *uuidFlag) String() string {
	if f == nil || f.value == nil || !f.set {
		return ""
	}
	return f.value.String()
}

func (f *uuidFlag) Set(s string) error {
	id, err := uuid.Parse(s)
	if err != nil {
		return fmt.Errorf("not a GUID: %q", s)
	}
	*f.value, f.set = id, true
	return nil
}

func guidFlag(fs *flag.FlagSet, name, usage string) *uuidFlag {
	f := &uuidFlag{name: name, value: new(uuid.UUID)}
	fs.Var(f, name, usage)
	return f
}

func (f *uuidFlag) required() (uuid.UUID, error) {
	if !f.set {
		return uuid.UUID{}, usagef("--%s is required", f.name)
	}
	return *f.value, nil
}

func addFlags(fs *flag.FlagSet) func(context.Context, *client.Client, *printer) error {
	app := guidFlag(fs, "app", "the application's `GUID` (required)")
	id := guidFlag(fs, "id", "the connector's `GUID` (default: the server assigns one)")
	machine := fs.String("machine-name", "", "the connector's machine `name` (required)")
	ip := fs.String("external-ip", "", "the connector's external IPv4 or IPv6 `address` (required)")
	status := fs.String("status", "", "the connector's `status`, one of: "+strings.Join(statusValues(), ", ")+" (required)")
	minimal := fs.Bool("minimal", false, "ask for 204 No Content (Prefer: return=minimal) instead of the stored member")
	return func(ctx context.Context, c *client.Client, out *printer) error {
		appID, err := app.required()
		if err != nil {
			return err
		}
		for name, v := range map[string]string{"machine-name": *machine, "external-ip": *ip, "status": *status} {
			if v == "" {
				return usagef("--%s is required", name)
			}
		}
		in := client.Connector{MachineName: *machine, ExternalIP: *ip, Status: generated.ConnectorStatus(*status)}
		if id.set {
			in.ID = id.value
		}
		var opts []client.AddOption
		if *minimal {
			opts = append(opts, client.ReturnMinimal())
		}
		m, err := c.AddMember(ctx, appID, in, opts...)
		if err != nil {
			return err
		}
		return out.members([]client.Connector{m}, false)
	}
}

func listFlags(fs *flag.FlagSet) func(context.Context, *client.Client, *printer) error {
	app := guidFlag(fs, "app", "the application's `GUID` (required)")
	pageSize := fs.Int("page-size", 0, "members per request (default: the server's)")
	return func(ctx context.Context, c *client.Client, out *printer) error {
		appID, err := app.required()
		if err != nil {
			return err
		}
		var opts []client.ListOption
		if *pageSize != 0 {
			opts = append(opts, client.PageSize(*pageSize))
		}
		members := []client.Connector{}
		for m, err := range c.ListMembers(ctx, appID, opts...) {
			if err != nil {
				return err
			}
			members = append(members, m)
		}
		return out.members(members, true)
	}
}

// memberFlags are the --app and --id of the commands that name one member.
func memberFlags(fs *flag.FlagSet) func() (app, id uuid.UUID, err error) {
	app := guidFlag(fs, "app", "the application's `GUID` (required)")
	id := guidFlag(fs, "id", "the connector's `GUID` (required)")
	return func() (uuid.UUID, uuid.UUID, error) {
		appID, err := app.required()
		if err != nil {
			return uuid.UUID{}, uuid.UUID{}, err
		}
		memberID, err := id.required()
		return appID, memberID, err
	}
}

func getFlags(fs *flag.FlagSet) func(context.Context, *client.Client, *printer) error {
	member := memberFlags(fs)
	return func(ctx context.Context, c *client.Client, out *printer) error {
		app, id, err := member()
		if err != nil {
			return err
		}
		m, err := c.GetMember(ctx, app, id)
		if err != nil {
			return err
		}
		return out.members([]client.Connector{m}, false)
	}
}

func removeFlags(fs *flag.FlagSet) func(context.Context, *client.Client, *printer) error {
	member := memberFlags(fs)
	return func(ctx context.Context, c *client.Client, out *printer) error {
		app, id, err := member()
		if err != nil {
			return err
		}
		if err := c.RemoveMember(ctx, app, id); err != nil {
			return err
		}
		return out.removed(id)
	}
}
