package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated/admin"
	"github.com/connector-group/members-api/server/faults"
)

// adminAPI is the generated client of the mock's admin API, with the same
// token, timeout, answer cap and redirect policy as every other command's.
func (g *globals) adminAPI() (*admin.ClientWithResponses, error) {
	if _, _, err := g.connect(); err != nil { // checks the global flags, settles the server
		return nil, err
	}
	token := g.token
	if token == "" {
		token, _ = g.lookup("CONNECTORCTL_TOKEN")
	}
	auth := func(_ context.Context, r *http.Request) error {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}
	var transport http.RoundTripper = cappedBodies{base: http.DefaultTransport, max: client.MaxResponseBytes}
	if g.verbose {
		transport = observed{base: transport, observe: g.printAttempt}
	}
	transport = textRequestIDs{base: transport}
	hc := client.KeepTokenAtOrigin(&http.Client{Timeout: g.timeout, Transport: transport})
	return admin.NewClientWithResponses(g.server, admin.WithHTTPClient(hc), admin.WithRequestEditorFn(auth))
}

// observed is --verbose for the admin API, which is not retried: each
// request, and its answer, as the API's attempts are printed.
type observed struct {
	base    http.RoundTripper
	observe func(client.Attempt)
}

func (o observed) RoundTrip(r *http.Request) (*http.Response, error) {
	rsp, err := o.base.RoundTrip(r)
	a := client.Attempt{Method: r.Method, URL: r.URL.Redacted(), N: 1, Err: err}
	if rsp != nil {
		a.StatusCode, a.RequestID = rsp.StatusCode, rsp.Header.Get("request-id")
	}
	o.observe(a)
	return rsp, err
}

// textRequestIDs keeps a request-id that is no GUID away from the generated
// client, which reads the header as the spec types it (a GUID) and refuses
// the whole answer otherwise: a proxy in front of the mock may set its own.
// It is kept under textRequestID, and requestIDOf reads it back.
type textRequestIDs struct{ base http.RoundTripper }

// textRequestID is where textRequestIDs keeps a request-id that is no GUID.
const textRequestID = "Connectorctl-Text-Request-Id"

func (t textRequestIDs) RoundTrip(r *http.Request) (*http.Response, error) {
	rsp, err := t.base.RoundTrip(r)
	if err == nil {
		if id := rsp.Header.Get("request-id"); id != "" && uuid.Validate(id) != nil {
			rsp.Header.Del("request-id")
			rsp.Header.Set(textRequestID, id)
		}
	}
	return rsp, err
}

// withRequestID is header with the request-id the answer came with.
func withRequestID(header http.Header) http.Header {
	if id := header.Get(textRequestID); id != "" {
		header = header.Clone()
		header.Set("request-id", id)
	}
	return header
}

// answered turns an admin API answer that is not want into the failure
// every command prints: code, message, details and request-id.
func answered(status int, header http.Header, body []byte, want int) error {
	if status == want {
		return nil
	}
	return &failure{client.ResponseError(status, withRequestID(header), body)}
}

// answeredJSON is the value the generated client decoded from a 200, or the
// failure: another status, or a 200 whose body is not the JSON the admin API
// describes (the generated client then leaves the value nil).
func answeredJSON[T any](status int, header http.Header, body []byte, value *T) (*T, error) {
	if err := answered(status, header, body, http.StatusOK); err != nil {
		return nil, err
	}
	if value == nil {
		return nil, &failure{fmt.Errorf("the server answered 200 with %d bytes of %s, not the JSON the admin API describes (request-id %s)",
			len(body), printable(header.Get("Content-Type")), printable(withRequestID(header).Get("request-id")))}
	}
	return value, nil
}

func resetCommand(g *globals) *cobra.Command {
	var app uuid.UUID
	var keepFaults bool
	cmd := &cobra.Command{
		Use:   "reset [--app GUID] [--keep-faults]",
		Short: "Empty the mock: every group, connector, the journal and the faults, or one application's group",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := g.adminAPI()
			if err != nil {
				return err
			}
			var params admin.ResetParams
			if app != uuid.Nil {
				params.ApplicationID = &app
			}
			if keepFaults {
				params.KeepFaults = &keepFaults
			}
			rsp, err := api.ResetWithResponse(cmd.Context(), &params)
			if err != nil {
				return &failure{err}
			}
			if err := answered(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, http.StatusNoContent); err != nil {
				return err
			}
			if app != uuid.Nil {
				_, err = fmt.Fprintf(g.stdout, "reset the group of %s\n", app)
			} else {
				_, err = fmt.Fprintln(g.stdout, "reset everything")
			}
			return err
		},
	}
	guidFlag(cmd, &app, "app", "empty only this application's connector group", false)
	cmd.Flags().BoolVar(&keepFaults, "keep-faults", false, "keep the fault settings (a reset of everything clears them)")
	return cmd
}

func faultsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "faults",
		Short: "Show the mock's misbehaviour settings; `faults set` changes them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := g.adminAPI()
			if err != nil {
				return err
			}
			rsp, err := api.GetFaultsWithResponse(cmd.Context(), nil)
			if err != nil {
				return &failure{err}
			}
			settings, err := answeredJSON(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, rsp.JSON200)
			if err != nil {
				return err
			}
			return printFaults(g, settings)
		},
	}
	var in admin.FaultSettings
	var latency, retryAfter, rateLimit, target string
	var rate float64
	var codes []int
	var operations []string
	var remaining int64
	set := &cobra.Command{
		Use:   "set [--latency D|D-D] [--fault-rate SHARE] [--fault-codes 429,503] [--retry-after D] [--rate-limit N/D] [--operations ID,ID] [--target GUID] [--remaining N]",
		Short: "Change the settings given; the others stay (an empty value or 0 turns one off)",
		Example: `  connectorctl faults set --fault-rate 0.2 --fault-codes 503
  connectorctl faults set --latency 10ms          # the fault rate and codes stay
  connectorctl faults set --fault-rate 1 --operations addConnectorGroupMember --remaining 3   # the next 3 adds fail
  connectorctl faults clear`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			changed := false
			for name, to := range map[string]**string{"latency": &in.Latency, "retry-after": &in.RetryAfter, "rate-limit": &in.RateLimit, "target": &in.TargetID} {
				if cmd.Flags().Changed(name) {
					value := map[string]string{"latency": latency, "retry-after": retryAfter, "rate-limit": rateLimit, "target": target}[name]
					*to, changed = &value, true
				}
			}
			if cmd.Flags().Changed("fault-rate") {
				in.FaultRate, changed = &rate, true
			}
			if cmd.Flags().Changed("fault-codes") {
				typed := make([]admin.FaultSettingsFaultCodes, len(codes))
				for i, c := range codes {
					typed[i] = admin.FaultSettingsFaultCodes(c)
				}
				in.FaultCodes, changed = &typed, true
			}
			if cmd.Flags().Changed("operations") {
				in.Operations, changed = &operations, true
			}
			if cmd.Flags().Changed("remaining") {
				in.Remaining, changed = &remaining, true
			}
			if !changed {
				return errors.New("give at least one setting: --latency, --fault-rate, --fault-codes, --retry-after, --rate-limit, --operations, --target or --remaining")
			}
			api, err := g.adminAPI()
			if err != nil {
				return err
			}
			rsp, err := api.MergeFaultsWithResponse(cmd.Context(), nil, in)
			if err != nil {
				return &failure{err}
			}
			settings, err := answeredJSON(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, rsp.JSON200)
			if err != nil {
				return err
			}
			return printFaults(g, settings)
		},
	}
	set.Flags().StringVar(&latency, "latency", "", "a delay (200ms) or a range (50ms-300ms) before each member operation")
	set.Flags().Float64Var(&rate, "fault-rate", 0, "the share (0 to 1) of member operations that fail")
	set.Flags().IntSliceVar(&codes, "fault-codes", nil, "the statuses faults use, from "+strings.Join(faultStatuses(), ", "))
	set.Flags().StringVar(&retryAfter, "retry-after", "", "the Retry-After of a 429 or 503 fault (2s)")
	set.Flags().StringVar(&rateLimit, "rate-limit", "", "at most requests/window member operations per token (120/60s)")
	set.Flags().StringSliceVar(&operations, "operations", nil, "misbehave only on these operations (operationIds, as `connectorctl requests` shows them); empty for all")
	set.Flags().StringVar(&target, "target", "", "misbehave only on requests whose path names this application or connector group (a GUID); empty for any")
	set.Flags().Int64Var(&remaining, "remaining", 0, "apply to the next N requests in scope only, then turn every setting off; 0 for no bound")
	clearFaults := &cobra.Command{
		Use:   "clear",
		Short: "Turn every fault setting off",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := g.adminAPI()
			if err != nil {
				return err
			}
			rsp, err := api.ClearFaultsWithResponse(cmd.Context(), nil)
			if err != nil {
				return &failure{err}
			}
			if err := answered(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, http.StatusNoContent); err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, "every fault setting is off")
			return err
		},
	}
	cmd.AddCommand(set, clearFaults)
	return cmd
}

func faultStatuses() []string {
	var out []string
	for _, s := range faults.Statuses() {
		out = append(out, fmt.Sprint(s))
	}
	return out
}

func printFaults(g *globals, f *admin.FaultSettings) error {
	if f == nil {
		return &failure{errors.New("the mock answered without its settings")}
	}
	if g.output == "json" {
		return writeJSON(g.stdout, f)
	}
	codes := make([]string, 0)
	if f.FaultCodes != nil {
		for _, c := range *f.FaultCodes {
			codes = append(codes, fmt.Sprint(c))
		}
	}
	tw := tabwriter.NewWriter(g.stdout, 4, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "latency\t%s\n", orNone(deref(f.Latency)))
	fmt.Fprintf(tw, "fault rate\t%g\n", deref(f.FaultRate))
	fmt.Fprintf(tw, "fault codes\t%s\n", strings.Join(codes, ", "))
	fmt.Fprintf(tw, "retry after\t%s\n", printable(deref(f.RetryAfter)))
	fmt.Fprintf(tw, "rate limit\t%s\n", orNone(deref(f.RateLimit)))
	var operations []string
	if f.Operations != nil {
		operations = *f.Operations
	}
	fmt.Fprintf(tw, "operations\t%s\n", orAll(printable(strings.Join(operations, ", "))))
	fmt.Fprintf(tw, "target\t%s\n", orAll(printable(deref(f.TargetID))))
	remaining := "no bound"
	if n := deref(f.Remaining); n > 0 {
		remaining = strconv.FormatInt(n, 10)
	}
	fmt.Fprintf(tw, "remaining\t%s\n", remaining)
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return printable(s)
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

// maxApplicationPages bounds the pages `applications` follows: a million
// applications are 1,000.
const maxApplicationPages = 10_000

// nextAfter reads the position a page's next link resumes after.
func nextAfter(next string) (int64, error) {
	u, err := url.Parse(next)
	if err == nil {
		var after int64
		if after, err = strconv.ParseInt(u.Query().Get("after"), 10, 64); err == nil && after >= 0 {
			return after, nil
		}
	}
	return 0, fmt.Errorf("the server's next page %s names no position to resume after", printable(next))
}

func applicationsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "applications",
		Short: "List the applications whose groups have members, and how many, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := g.adminAPI()
			if err != nil {
				return err
			}
			// Page after page, as each page's next says; a server whose pages
			// never end is stopped at maxApplicationPages.
			var apps []admin.Application
			top := admin.ListApplicationsTopMaximum
			params := &admin.ListApplicationsParams{Top: &top}
			for pages := 0; ; pages++ {
				if pages == maxApplicationPages {
					return fmt.Errorf("the server's applications go on past %d pages; stopped", maxApplicationPages)
				}
				rsp, err := api.ListApplicationsWithResponse(cmd.Context(), params)
				if err != nil {
					return &failure{err}
				}
				page, err := answeredJSON(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, rsp.JSON200)
				if err != nil {
					return err
				}
				apps = append(apps, page.Value...)
				if page.Next == nil {
					break
				}
				after, err := nextAfter(*page.Next)
				if err != nil {
					return err
				}
				params.After = &after
			}
			return printRows(g, apps, "APPLICATION\tMEMBERS", func(a admin.Application) (string, []string) {
				return a.ID.String(), []string{a.ID.String(), strconv.Itoa(a.MemberCount)}
			})
		},
	}
}

// strconvError is how pflag reports a number it could not parse.
var strconvError = regexp.MustCompile(`strconv\.Parse\w+: parsing "[^"]*": (invalid syntax|value out of range)`)

// plainFlagError says a flag's parse error in words: `--status abc` was
// "strconv.ParseInt: parsing "abc": invalid syntax".
func plainFlagError(err error) error {
	msg := strconvError.ReplaceAllStringFunc(err.Error(), func(m string) string {
		if strings.HasSuffix(m, "value out of range") {
			return "the number is out of range"
		}
		return "want a number"
	})
	return errors.New(msg)
}
