package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated/admin"
)

// requestsCommand reads the mock's journal (GET /_admin/requests): what the
// code under test sent, and how the mock answered.
func requestsCommand(g *globals) *cobra.Command {
	var app uuid.UUID
	var operation string
	var status, top int
	var clearJournal bool
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "Show what the mock server received, newest first (its journal)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := g.connect(); err != nil { // checks the global flags
				return err
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
			// The token stays at the server's origin, and an answer is read
			// up to the client's cap, as every other command's is.
			hc := client.KeepTokenAtOrigin(&http.Client{Timeout: g.timeout,
				Transport: cappedBodies{base: http.DefaultTransport, max: client.MaxResponseBytes}})
			api, err := admin.NewClientWithResponses(g.server, admin.WithHTTPClient(hc), admin.WithRequestEditorFn(auth))
			if err != nil {
				return err
			}
			if clearJournal {
				rsp, err := api.ClearRequestsWithResponse(cmd.Context(), nil)
				if err != nil {
					return &failure{err}
				}
				if rsp.StatusCode() != http.StatusNoContent {
					return &failure{fmt.Errorf("clearing the journal: %s", rsp.Status())}
				}
				_, err = fmt.Fprintln(g.stdout, "journal cleared")
				return err
			}
			var params admin.ListRequestsParams
			if app != uuid.Nil {
				params.ApplicationID = &app
			}
			if cmd.Flags().Changed("operation") {
				params.Operation = &operation
			}
			if status != 0 {
				params.Status = &status
			}
			if top != 0 {
				params.Top = &top
			}
			rsp, err := api.ListRequestsWithResponse(cmd.Context(), &params)
			if err != nil {
				return &failure{err}
			}
			if rsp.JSON200 == nil {
				return &failure{fmt.Errorf("%s: %s", rsp.Status(), strings.TrimSpace(string(rsp.Body)))}
			}
			return printRequests(g, rsp.JSON200.Value)
		},
	}
	guidFlag(cmd, &app, "app", "only the requests about this application", false)
	cmd.Flags().StringVar(&operation, "operation", "", "only the requests for this operationId (\"\" for those that matched none)")
	cmd.Flags().IntVar(&status, "status", 0, "only the requests answered with this status")
	cmd.Flags().IntVar(&top, "top", 0, fmt.Sprintf("at most this many (default: the mock's, %d)", admin.ListRequestsTopDefault))
	cmd.Flags().BoolVar(&clearJournal, "clear", false, "empty the journal instead")
	return cmd
}

func printRequests(g *globals, entries []admin.JournalEntry) error {
	switch {
	case g.quiet:
		for _, e := range entries {
			fmt.Fprintln(g.stdout, e.RequestID)
		}
		return nil
	case g.output == "json":
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	tw := tabwriter.NewWriter(g.stdout, 4, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSTATUS\tMETHOD\tOPERATION\tERROR\tTARGETS\tFAULT\tCLIENT-REQUEST-ID")
	for _, e := range entries {
		var targets []string
		if e.Targets != nil {
			targets = *e.Targets
		}
		fault := ""
		if e.Fault != nil {
			fault = fmt.Sprint(*e.Fault)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.TimeOnly), e.Status, printable(e.Method),
			printable(e.Operation), printable(deref(e.ErrorCode)), printable(strings.Join(targets, " ")), fault, printable(deref(e.ClientRequestID)))
	}
	return tw.Flush()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// cappedBodies is a transport whose answers' bodies fail past max bytes
// rather than fill memory: the generated admin client reads a body whole.
type cappedBodies struct {
	base http.RoundTripper
	max  int64
}

func (t cappedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := t.base.RoundTrip(req)
	if err == nil {
		rsp.Body = &cappedBody{ReadCloser: rsp.Body, left: t.max}
	}
	return rsp, err
}

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("the answer is larger than %d MiB", client.MaxResponseBytes>>20)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
