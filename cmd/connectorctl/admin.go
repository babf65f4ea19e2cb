package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	hc := client.KeepTokenAtOrigin(&http.Client{Timeout: g.timeout,
		Transport: cappedBodies{base: http.DefaultTransport, max: client.MaxResponseBytes}})
	return admin.NewClientWithResponses(g.server, admin.WithHTTPClient(hc), admin.WithRequestEditorFn(auth))
}

// answered turns an admin API answer that is not want into the failure
// every command prints: code, message, details and request-id.
func answered(status int, header http.Header, body []byte, want int) error {
	if status == want {
		return nil
	}
	return &failure{client.ResponseError(status, header, body)}
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
			len(body), printable(header.Get("Content-Type")), printable(header.Get("request-id")))}
	}
	return value, nil
}

func resetCommand(g *globals) *cobra.Command {
	var app uuid.UUID
	cmd := &cobra.Command{
		Use:   "reset [--app GUID]",
		Short: "Empty the mock: every group, connector and the journal, or one application's group",
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
	var latency, retryAfter, rateLimit string
	var rate float64
	var codes []int
	set := &cobra.Command{
		Use:   "set [--latency D|D-D] [--fault-rate SHARE] [--fault-codes 429,503] [--retry-after D] [--rate-limit N/D]",
		Short: "Change the settings given; the others stay (an empty value or 0 turns one off)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			changed := false
			for name, to := range map[string]**string{"latency": &in.Latency, "retry-after": &in.RetryAfter, "rate-limit": &in.RateLimit} {
				if cmd.Flags().Changed(name) {
					value := map[string]string{"latency": latency, "retry-after": retryAfter, "rate-limit": rateLimit}[name]
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
			if !changed {
				return errors.New("give at least one setting: --latency, --fault-rate, --fault-codes, --retry-after or --rate-limit")
			}
			api, err := g.adminAPI()
			if err != nil {
				return err
			}
			rsp, err := api.SetFaultsWithResponse(cmd.Context(), nil, in)
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
	cmd.AddCommand(set)
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
	fmt.Fprintf(tw, "retry after\t%s\n", deref(f.RetryAfter))
	fmt.Fprintf(tw, "rate limit\t%s\n", orNone(deref(f.RateLimit)))
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return printable(s)
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
			rsp, err := api.ListApplicationsWithResponse(cmd.Context(), nil)
			if err != nil {
				return &failure{err}
			}
			apps, err := answeredJSON(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, rsp.JSON200)
			if err != nil {
				return err
			}
			return printRows(g, apps.Value, "APPLICATION\tMEMBERS", func(a admin.Application) (string, []string) {
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
