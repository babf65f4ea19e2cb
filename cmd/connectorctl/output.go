package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated/validation"
)

// printer writes results as a table for people or as JSON for programs.
type printer struct {
	json bool
	w    io.Writer
}

func newPrinter(format string, w io.Writer) (*printer, error) {
	switch format {
	case "table":
		return &printer{w: w}, nil
	case "json":
		return &printer{json: true, w: w}, nil
	}
	return nil, usagef("--output must be table or json, not %q", format)
}

// members prints members; asList keeps a JSON array even for one member.
func (p *printer) members(ms []client.Connector, asList bool) error {
	if p.json {
		enc := json.NewEncoder(p.w)
		enc.SetIndent("", "  ")
		if !asList && len(ms) == 1 {
			return enc.Encode(ms[0])
		}
		return enc.Encode(ms)
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMACHINE NAME\tEXTERNAL IP\tSTATUS")
	for _, m := range ms {
		id := ""
		if m.ID != nil {
			id = m.ID.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id, m.MachineName, m.ExternalIP, m.Status)
	}
	return tw.Flush()
}

func (p *printer) removed(id uuid.UUID) error {
	if p.json {
		return nil
	}
	_, err := fmt.Fprintf(p.w, "removed %s\n", id)
	return err
}

// statusValues lists the allowed statuses from the generated code, so the
// help follows the spec without a copy here.
func statusValues() []string {
	var values []string
	for _, v := range validation.ConnectorStatusValues() {
		values = append(values, string(v))
	}
	return values
}
