package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
	appversion "github.com/connector-group/members-api/internal/version"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1   // the API or the network said no
	exitUsage       = 2   // the command line is wrong
	exitInterrupted = 130 // SIGINT, as shells report it
)

const defaultServer = "http://127.0.0.1:8080"

// failure is an error the API or the network gave: exit 1. Any other error
// from a command is a usage error: exit 2.
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// globals are the flags every command takes.
type globals struct {
	server  string
	token   string
	output  string
	quiet   bool
	timeout time.Duration
	// deadline bounds the whole command (every call, retry and page); 0 is none.
	deadline time.Duration
	retries  int
	verbose  bool
	lookup   func(string) (string, bool)
	cancel   context.CancelFunc // ends --deadline's context
	stdout   io.Writer
	stderr   io.Writer
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	out := &safeOutput{w: stdout}
	defer out.flush()
	g := &globals{lookup: lookup, stdout: out, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if g.cancel != nil {
		g.cancel()
	}
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "connectorctl: interrupted")
		return exitInterrupted
	}
	var f *failure
	if errors.As(err, &f) {
		printFailure(stderr, g, f.err)
		return exitError
	}
	// The help of the command that failed: its flags are what the error is about.
	path := "connectorctl"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	fmt.Fprintf(stderr, "connectorctl: %v\nRun '%s --help' for usage.\n", err, path)
	return exitUsage
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "connectorctl",
		Short: "Manage the members of an application's connector group",
		Long: "connectorctl adds, lists, reads and removes the connectors that are members of an\n" +
			"application's connector group, against the mock or the real service.",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("a command is required: add, list, get, remove, connectors, groups, requests, reset, faults, applications, version or completion")
		},
	}
	// No flag's default comes from the environment, so that --help never
	// shows a value from it: the token above all.
	pf := root.PersistentFlags()
	pf.StringVar(&g.server, "server", "", "the API's base URL (env CONNECTORCTL_SERVER; default "+defaultServer+")")
	pf.StringVar(&g.token, "token", "", "the bearer token (env CONNECTORCTL_TOKEN)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "print ids only")
	pf.DurationVar(&g.timeout, "timeout", client.DefaultTimeout, "time each attempt of a call has to be answered")
	pf.DurationVar(&g.deadline, "deadline", 0, "time the whole command has, every call, retry and page included (0: no bound but each call's)")
	pf.IntVar(&g.retries, "retries", client.DefaultRetries, "how many times a call is retried on 429, 503, 504 or a failed connection (0: none)")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "print each attempt, its answer and the wait before a retry, on stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return plainFlagError(err) })
	// --deadline is read once the flags are parsed: the command's context
	// ends with it, and so does every call the command makes.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.deadline < 0 {
			return errors.New("--deadline must be 0 or positive")
		}
		if g.deadline > 0 {
			ctx, cancel := context.WithTimeout(cmd.Context(), g.deadline)
			g.cancel = cancel
			cmd.SetContext(ctx)
		}
		return nil
	}
	root.AddCommand(addCommand(g), listCommand(g), getCommand(g), removeCommand(g), connectorsCommand(g), requestsCommand(g),
		resetCommand(g), faultsCommand(g), applicationsCommand(g), groupsCommand(g), versionCommand())
	return root
}

// connect makes the client and the printer the global flags ask for.
func (g *globals) connect() (*client.Client, *printer, error) {
	out, err := newPrinter(g.output, g.quiet, g.stdout)
	if err != nil {
		return nil, nil, err
	}
	server := g.server
	if server == "" {
		if v, ok := g.lookup("CONNECTORCTL_SERVER"); ok && v != "" {
			server = v
		} else {
			server = defaultServer
		}
	}
	g.server = server
	token := g.token
	if token == "" {
		token, _ = g.lookup("CONNECTORCTL_TOKEN")
	}
	opts := []client.Option{client.WithUserAgent("connectorctl/" + version() + " " + client.DefaultUserAgent())}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	if g.timeout <= 0 {
		return nil, nil, errors.New("--timeout must be positive")
	}
	if g.retries < 0 {
		return nil, nil, errors.New("--retries must be 0 or more")
	}
	opts = append(opts, client.WithTimeout(g.timeout), client.WithRetries(g.retries))
	if g.verbose {
		opts = append(opts, client.WithAttemptObserver(g.printAttempt))
	}
	c, err := client.New(server, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("--server %q is not an http(s) URL", server)
	}
	return c, out, nil
}

// printAttempt is --verbose: each attempt, its answer, and the wait before
// a retry, on stderr (the URL without credentials; the token is never shown).
func (g *globals) printAttempt(a client.Attempt) {
	answer := fmt.Sprintf("%d", a.StatusCode)
	if a.Err != nil {
		answer = "no answer: " + printable(rootCause(a.Err).Error())
	} else if a.RequestID != "" {
		answer += " (request-id " + printable(a.RequestID) + ")"
	}
	next := ""
	if a.RetryIn > 0 {
		next = fmt.Sprintf("; retrying in %s", a.RetryIn.Round(time.Millisecond))
	}
	fmt.Fprintf(g.stderr, "connectorctl: attempt %d: %s %s -> %s%s\n", a.N, a.Method, printable(a.URL), answer, next)
}

// guid is a pflag.Value holding a GUID.
type guid struct{ id *uuid.UUID }

func (g guid) String() string {
	if g.id == nil || *g.id == uuid.Nil {
		return ""
	}
	return g.id.String()
}

func (g guid) Set(s string) error {
	id, err := uuid.Parse(s)
	if err != nil {
		return fmt.Errorf("not a GUID: %q", s)
	}
	*g.id = id
	return nil
}

func (guid) Type() string { return "GUID" }

func guidFlag(cmd *cobra.Command, id *uuid.UUID, name, usage string, required bool) {
	cmd.Flags().Var(guid{id}, name, usage)
	if required {
		_ = cmd.MarkFlagRequired(name)
	}
}

func addCommand(g *globals) *cobra.Command {
	var app, id, connectorID uuid.UUID
	var in client.Connector
	var status string
	var minimal bool
	cmd := &cobra.Command{
		Use:   "add --app GUID (--machine-name NAME --external-ip IP --status STATUS | --connector-id GUID)",
		Short: "Add a connector to the group, or a connector the server knows by reference",
		Long: "add adds a connector to the application's connector group. With --machine-name, --external-ip\n" +
			"and --status it sends the connector (registered when its id is new, updated when it is known);\n" +
			"with --connector-id it sends an OData reference to a connector the server knows, as the Graph\n" +
			"SDKs do.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			properties := []string{"external-ip", "machine-name", "status"}
			if cmd.Flags().Changed("connector-id") {
				for _, name := range append(properties, "id") {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--connector-id adds a connector the server knows; it cannot be combined with --%s", name)
					}
				}
			} else {
				var missing []string
				for _, name := range properties {
					if !cmd.Flags().Changed(name) {
						missing = append(missing, strconv.Quote(name))
					}
				}
				if len(missing) > 0 {
					return fmt.Errorf("required flag(s) %s not set (or give --connector-id)", strings.Join(missing, ", "))
				}
			}
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			var opts []client.CallOption
			if minimal {
				opts = append(opts, client.ReturnMinimal())
			}
			var m client.Member
			if cmd.Flags().Changed("connector-id") {
				m, err = c.AddMemberByReference(cmd.Context(), app, connectorID, opts...)
			} else {
				in.Status = generated.ConnectorStatus(status)
				if id != uuid.Nil {
					in.ID = &id
				}
				m, err = c.AddMember(cmd.Context(), app, in, opts...)
			}
			if err != nil {
				return &failure{err}
			}
			return out.member(m)
		},
	}
	guidFlag(cmd, &app, "app", "the application's GUID", true)
	guidFlag(cmd, &id, "id", "the connector's GUID (default: a new one)", false)
	guidFlag(cmd, &connectorID, "connector-id", "add the connector the server knows with this GUID, by reference", false)
	cmd.Flags().StringVar(&in.MachineName, "machine-name", "", "the connector's machine name")
	cmd.Flags().StringVar(&in.ExternalIP, "external-ip", "", "the connector's external IPv4 or IPv6 address")
	cmd.Flags().StringVar(&status, "status", "", "the connector's status, one of: "+strings.Join(statusValues(), ", "))
	cmd.Flags().BoolVar(&minimal, "minimal", false, "ask for 204 No Content (Prefer: return=minimal) instead of the stored member")
	return cmd
}

// connectorsCommand reads the connectors the server knows, whichever
// groups they are members of.
func connectorsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connectors",
		Short: "List or show the connectors the server knows",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("a command is required: list or get")
		},
	}
	var f listFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List the connectors, page by page as they arrive",
		Args:  cobra.NoArgs,
		RunE: listPages(g, &f, &memberColumns, func(ctx context.Context, c *client.Client, opts []client.CallOption) iter.Seq2[[]client.Member, error] {
			return c.ListConnectorPages(ctx, opts...)
		}),
	}
	f.add(list, "connectors")
	var id uuid.UUID
	get := &cobra.Command{
		Use:   "get --id GUID",
		Short: "Show one connector",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			m, err := c.GetConnector(cmd.Context(), id)
			if err != nil {
				return &failure{err}
			}
			return out.member(m)
		},
	}
	guidFlag(get, &id, "id", "the connector's GUID", true)
	cmd.AddCommand(list, get)
	return cmd
}

// listFlags are the flags every listing takes: --page-size and the OData
// query options.
type listFlags struct {
	pageSize             int
	sel, filter, orderby string
	count                bool
}

// add adds the flags to cmd, which lists what.
func (f *listFlags) add(cmd *cobra.Command, what string) {
	fs := cmd.Flags()
	fs.IntVar(&f.pageSize, "page-size", generated.ListConnectorGroupMembersTopDefault,
		fmt.Sprintf("%s a page, %d to %d", what, generated.ListConnectorGroupMembersTopMinimum, generated.ListConnectorGroupMembersTopMaximum))
	fs.StringVar(&f.sel, "select", "", "only these properties, comma-separated ($select; -o json prints only them)")
	fs.StringVar(&f.filter, "filter", "", `only the items this OData expression keeps ($filter), e.g. "status eq 'active'"`)
	fs.StringVar(&f.orderby, "orderby", "", `the order ($orderby), e.g. "machineName desc"`)
	fs.BoolVar(&f.count, "count", false, "print how many items the listing holds in all (after --filter) on stderr")
}

// options are the client's call options the flags given ask for; count
// receives @odata.count.
func (f *listFlags) options(cmd *cobra.Command, count *int64) []client.CallOption {
	var opts []client.CallOption
	if cmd.Flags().Changed("page-size") {
		opts = append(opts, client.PageSize(f.pageSize))
	}
	if cmd.Flags().Changed("select") {
		opts = append(opts, client.Select(f.selected()...))
	}
	if cmd.Flags().Changed("filter") {
		opts = append(opts, client.Filter(f.filter))
	}
	if cmd.Flags().Changed("orderby") {
		opts = append(opts, client.OrderBy(f.orderby))
	}
	if f.count {
		opts = append(opts, client.Count(count))
	}
	return opts
}

// selected is --select as a list.
func (f *listFlags) selected() []string {
	var names []string
	for name := range strings.SplitSeq(f.sel, ",") {
		names = append(names, strings.TrimSpace(name))
	}
	return names
}

// listPages is the RunE of a listing: pages asked of the client with the
// flags given (the client checks --page-size against the spec's range, the
// server the query options), each printed as it arrives, then --count.
func listPages[T any](g *globals, f *listFlags, cols *columns[T], pages func(context.Context, *client.Client, []client.CallOption) iter.Seq2[[]T, error]) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		var count int64 = -1
		opts := f.options(cmd, &count)
		c, out, err := g.connect()
		if err != nil {
			return err
		}
		if cmd.Flags().Changed("select") {
			out.selected = f.selected()
		}
		if err := printPages(out, cols, pages(cmd.Context(), c, opts)); err != nil {
			return err
		}
		if f.count {
			if count < 0 {
				return &failure{errors.New("the server answered no @odata.count")}
			}
			fmt.Fprintf(g.stderr, "count: %d\n", count)
		}
		return nil
	}
}

// printPages prints each page as it arrives. A page size out of range is a
// usage error, found before any request.
func printPages[T any](out *printer, cols *columns[T], pages iter.Seq2[[]T, error]) error {
	list := listOf(out, cols)
	for page, err := range pages {
		if errors.Is(err, client.ErrPageSize) {
			_ = list.abort()
			return fmt.Errorf("--page-size: %w", err)
		}
		if err != nil {
			_ = list.abort()
			return &failure{err}
		}
		if err := list.page(page); err != nil {
			return &failure{err}
		}
	}
	return list.close()
}

// statusValues lists the allowed statuses from the generated code, so the
// help follows the spec without a copy here.
func statusValues() []string {
	var values []string
	for _, v := range generated.ConnectorStatusValues() {
		values = append(values, string(v))
	}
	return values
}

func listCommand(g *globals) *cobra.Command {
	var app uuid.UUID
	var f listFlags
	cmd := &cobra.Command{
		Use:   "list --app GUID",
		Short: "List the members of the group, page by page as they arrive",
		Args:  cobra.NoArgs,
		RunE: listPages(g, &f, &memberColumns, func(ctx context.Context, c *client.Client, opts []client.CallOption) iter.Seq2[[]client.Member, error] {
			return c.ListPages(ctx, app, opts...)
		}),
	}
	guidFlag(cmd, &app, "app", "the application's GUID", true)
	f.add(cmd, "members")
	return cmd
}

func getCommand(g *globals) *cobra.Command {
	var app, id uuid.UUID
	cmd := &cobra.Command{
		Use:   "get --app GUID --id GUID",
		Short: "Show one member",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			m, err := c.GetMember(cmd.Context(), app, id)
			if err != nil {
				return &failure{err}
			}
			return out.member(m)
		},
	}
	guidFlag(cmd, &app, "app", "the application's GUID", true)
	guidFlag(cmd, &id, "id", "the connector's GUID", true)
	return cmd
}

func removeCommand(g *globals) *cobra.Command {
	var app, id uuid.UUID
	var ignoreNotFound bool
	cmd := &cobra.Command{
		Use:   "remove --app GUID --id GUID",
		Short: "Remove a member from the group",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, out, err := g.connect()
			if err != nil {
				return err
			}
			err = c.RemoveMember(cmd.Context(), app, id)
			switch {
			case err == nil:
				return out.removed(id, true)
			case ignoreNotFound && errors.Is(err, client.ErrNotFound):
				return out.removed(id, false)
			}
			return &failure{err}
		},
	}
	guidFlag(cmd, &app, "app", "the application's GUID", true)
	guidFlag(cmd, &id, "id", "the connector's GUID", true)
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "succeed when there is no such member")
	return cmd
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s; client %s\n", appversion.String("connectorctl"), client.DefaultUserAgent())
			return err
		},
	}
}

// version is the tool's release and the commit this binary was built from.
func version() string {
	v := appversion.Release
	if rev := appversion.Revision(); rev != "" {
		v += "+" + rev
	}
	return v
}

// printFailure writes what the API or the network said: the code, the
// message, every violation, the status and the request-id; for a server
// that cannot be reached, which one and what to check.
func printFailure(w io.Writer, g *globals, err error) {
	var ae *client.APIError
	if errors.As(err, &ae) {
		code := string(ae.Code)
		if code == "" {
			code = fmt.Sprintf("HTTP %d", ae.StatusCode)
		}
		fmt.Fprintf(w, "connectorctl: %s: %s\n", printable(code), printable(ae.Message))
		for _, d := range ae.Details {
			target := "body"
			if d.Target != nil && *d.Target != "" {
				target = *d.Target
			}
			fmt.Fprintf(w, "  %s: %s\n", printable(target), printable(d.Message))
		}
		fmt.Fprintf(w, "  status: %d\n", ae.StatusCode)
		if ae.RetryAfter > client.DefaultMaxRetryWait {
			fmt.Fprintf(w, "  retry after: %s (longer than connectorctl waits, %s: not retried)\n", ae.RetryAfter, client.DefaultMaxRetryWait)
		} else if ae.RetryAfter > 0 {
			fmt.Fprintf(w, "  retry after: %s\n", ae.RetryAfter)
		}
		if ae.Attempts > 1 {
			fmt.Fprintf(w, "  attempts: %d\n", ae.Attempts)
		}
		requestID := printable(ae.RequestID)
		if requestID == "" {
			requestID = "(none in the answer)"
		}
		fmt.Fprintf(w, "  request-id: %s\n", requestID)
		if ae.StatusCode == http.StatusUnauthorized {
			if g.token == "" {
				if v, _ := g.lookup("CONNECTORCTL_TOKEN"); v == "" {
					fmt.Fprintln(w, "  No token was sent: give the server's token with --token or CONNECTORCTL_TOKEN.")
					return
				}
			}
			fmt.Fprintln(w, "  The token was refused: give the one the server was started with (--token or CONNECTORCTL_TOKEN).")
		}
		return
	}
	var op *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial" {
		if target, ok := redirectedTo(err, g.server); ok {
			fmt.Fprintf(w, "connectorctl: cannot reach %s, where the server at %s redirected: %s\n",
				printable(target), redacted(g.server), printable(rootCause(err).Error()))
			return
		}
		fmt.Fprintf(w, "connectorctl: cannot reach the server at %s: %s\n  Is it running? Set --server or CONNECTORCTL_SERVER.\n",
			redacted(g.server), printable(rootCause(err).Error()))
		return
	}
	fmt.Fprintf(w, "connectorctl: %s\n", printable(err.Error()))
}

// redirectedTo is the URL (without credentials) a failed request was sent to,
// when a redirect took it to another host than server's.
func redirectedTo(err error, server string) (string, bool) {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return "", false
	}
	target, terr := url.Parse(ue.URL)
	base, berr := url.Parse(server)
	if terr != nil || berr != nil || target.Host == base.Host {
		return "", false
	}
	return target.Redacted(), true
}

// rootCause is the innermost error, for a short message.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
