package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
)

// printer writes results as a table for people, as JSON for programs, or as
// ids only (-q).
type printer struct {
	format string // table, json or ids
	w      io.Writer
}

func newPrinter(format string, quiet bool, w io.Writer) (*printer, error) {
	switch {
	case quiet:
		return &printer{format: "ids", w: w}, nil
	case format == "table" || format == "json":
		return &printer{format: format, w: w}, nil
	}
	return nil, fmt.Errorf("--output must be table or json, not %q", format)
}

// member prints one member.
func (p *printer) member(m client.Member) error {
	switch p.format {
	case "ids":
		_, err := fmt.Fprintln(p.w, m.ID)
		return err
	case "json":
		enc := json.NewEncoder(p.w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	l := p.list()
	if err := l.page([]client.Member{m}); err != nil {
		return err
	}
	return l.close()
}

// removed prints the outcome of a remove: removed, or not found and ignored.
func (p *printer) removed(id uuid.UUID, removed bool) error {
	switch p.format {
	case "ids":
		_, err := fmt.Fprintln(p.w, id)
		return err
	case "json":
		return json.NewEncoder(p.w).Encode(struct {
			ID      string `json:"id"`
			Removed bool   `json:"removed"`
		}{id.String(), removed})
	}
	if !removed {
		_, err := fmt.Fprintf(p.w, "not a member, nothing to remove: %s\n", id)
		return err
	}
	_, err := fmt.Fprintf(p.w, "removed %s\n", id)
	return err
}

// listing prints members page by page, as they arrive. JSON is still one
// document: an array, opened before the first page and closed after the last
// (or at an error, so that what was printed parses).
type listing struct {
	p       *printer
	started bool
	count   int
}

func (p *printer) list() *listing { return &listing{p: p} }

func (l *listing) page(members []client.Member) error {
	w := l.p.w
	switch l.p.format {
	case "ids":
		for _, m := range members {
			if _, err := fmt.Fprintln(w, m.ID); err != nil {
				return err
			}
		}
		return nil
	case "json":
		for _, m := range members {
			sep := ",\n"
			if l.count == 0 {
				sep = "[\n"
			}
			b, err := json.MarshalIndent(m, "  ", "  ")
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "%s  %s", sep, b); err != nil {
				return err
			}
			l.count++
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 16, 4, 2, ' ', 0)
	if !l.started {
		fmt.Fprintln(tw, "ID\tMACHINE NAME\tEXTERNAL IP\tSTATUS")
		l.started = true
	}
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, printable(m.MachineName), printable(m.ExternalIP), printable(string(m.Status)))
	}
	l.count += len(members)
	return tw.Flush()
}

// abort ends a listing cut short by an error: a JSON array begun is closed,
// so that what was printed still parses; nothing else is printed.
func (l *listing) abort() error {
	if l.p.format == "json" && l.count > 0 {
		_, err := io.WriteString(l.p.w, "\n]\n")
		return err
	}
	return nil
}

func (l *listing) close() error {
	switch l.p.format {
	case "json":
		closing := "\n]\n"
		if l.count == 0 {
			closing = "[]\n"
		}
		_, err := io.WriteString(l.p.w, closing)
		return err
	case "table":
		if !l.started {
			_, err := fmt.Fprintln(l.p.w, "no members")
			return err
		}
	}
	return nil
}
