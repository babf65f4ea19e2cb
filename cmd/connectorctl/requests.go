package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
	var clearJournal, violations bool
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "Show what the mock server received, newest first (its journal)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filters := []string{"app", "operation", "status", "top", "violations"}
			if clearJournal {
				for _, name := range filters {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--clear empties the whole journal; it cannot be combined with --%s", name)
					}
				}
			}
			if cmd.Flags().Changed("status") && (status < admin.ListRequestsStatusMinimum || status > admin.ListRequestsStatusMaximum) {
				return fmt.Errorf("--status %d: want a status from %d to %d", status, admin.ListRequestsStatusMinimum, admin.ListRequestsStatusMaximum)
			}
			if cmd.Flags().Changed("top") && (top < admin.ListRequestsTopMinimum || top > admin.ListRequestsTopMaximum) {
				return fmt.Errorf("--top %d: want %d to %d", top, admin.ListRequestsTopMinimum, admin.ListRequestsTopMaximum)
			}
			api, err := g.adminAPI()
			if err != nil {
				return err
			}
			if clearJournal {
				rsp, err := api.ClearRequestsWithResponse(cmd.Context(), nil)
				if err != nil {
					return &failure{err}
				}
				if err := answered(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, http.StatusNoContent); err != nil {
					return err
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
			if cmd.Flags().Changed("status") {
				params.Status = &status
			}
			if cmd.Flags().Changed("top") {
				params.Top = &top
			}
			if violations {
				params.Disagreements = &violations
			}
			rsp, err := api.ListRequestsWithResponse(cmd.Context(), &params)
			if err != nil {
				return &failure{err}
			}
			page, err := answeredJSON(rsp.StatusCode(), rsp.HTTPResponse.Header, rsp.Body, rsp.JSON200)
			if err != nil {
				return err
			}
			if violations {
				return printViolations(g, page.Value)
			}
			return printRequests(g, page.Value)
		},
	}
	guidFlag(cmd, &app, "app", "only the requests about this application", false)
	cmd.Flags().StringVar(&operation, "operation", "", "only the requests for this operationId (\"\" for those that matched none)")
	cmd.Flags().IntVar(&status, "status", 0, "only the requests answered with this status")
	cmd.Flags().IntVar(&top, "top", 0, fmt.Sprintf("at most this many (default: the mock's, %d)", admin.ListRequestsTopDefault))
	cmd.Flags().BoolVar(&clearJournal, "clear", false, "empty the journal instead")
	cmd.Flags().BoolVar(&violations, "violations", false, "only the exchanges where the service (or the request) and the spec disagree, one line a disagreement (--proxy)")
	return cmd
}

// violation is one disagreement of one journal entry: a row of --violations.
type violation struct {
	entry admin.JournalEntry
	admin.Disagreement
}

// printViolations prints each disagreement of entries: where the service
// (or a request forwarded with --proxy-invalid) and the spec differ.
func printViolations(g *globals, entries []admin.JournalEntry) error {
	var rows []violation
	for _, e := range entries {
		if e.Disagreements != nil {
			for _, d := range *e.Disagreements {
				rows = append(rows, violation{e, d})
			}
		}
	}
	if g.output == "json" && !g.quiet {
		return writeJSON(g.stdout, entries) // the entries, disagreements and all
	}
	return printRows(g, rows, "TIME\tSTATUS\tMETHOD\tOPERATION\tIN\tWHERE\tTHE SPEC SAYS\tARRIVED",
		func(v violation) (string, []string) {
			return v.entry.RequestID.String(), []string{v.entry.Time.Local().Format(time.TimeOnly), strconv.Itoa(v.entry.Status),
				printable(v.entry.Method), printable(v.entry.Operation), string(v.Direction), printable(v.Pointer), printable(v.Spec), printable(v.Arrived)}
		})
}

func printRequests(g *globals, entries []admin.JournalEntry) error {
	return printRows(g, entries, "TIME\tSTATUS\tMETHOD\tOPERATION\tERROR\tTARGETS\tFAULT\tCLIENT-REQUEST-ID",
		func(e admin.JournalEntry) (string, []string) {
			var targets []string
			if e.Targets != nil {
				targets = *e.Targets
			}
			fault := ""
			if e.Fault != nil {
				fault = fmt.Sprint(*e.Fault)
			}
			return e.RequestID.String(), []string{e.Time.Local().Format(time.TimeOnly), strconv.Itoa(e.Status), printable(e.Method),
				printable(e.Operation), printable(deref(e.ErrorCode)), printable(strings.Join(targets, " ")), fault, printable(deref(e.ClientRequestID))}
		})
}

// printRows prints rows as -q, -o json or the table ask: ids, one a line;
// the rows as JSON; or header and each row's cells (already printable), tab
// separated and aligned.
func printRows[T any](g *globals, rows []T, header string, row func(T) (id string, cells []string)) error {
	switch {
	case g.quiet:
		for _, r := range rows {
			id, _ := row(r)
			fmt.Fprintln(g.stdout, id)
		}
		return nil
	case g.output == "json":
		return writeJSON(g.stdout, rows)
	}
	tw := tabwriter.NewWriter(g.stdout, 4, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		_, cells := row(r)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// deref is *p, or T's zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// writeJSON writes v indented, as -o json does everywhere.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
