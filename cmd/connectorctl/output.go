package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
)

// printer writes results as a table for people, as JSON for programs, or as
// ids only (-q).
type printer struct {
	format   string // table, json or ids
	w        io.Writer
	selected []string // --select: the properties -o json prints (nil: all)
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
func (p *printer) member(m client.Member) error { return printOne(p, &memberColumns, m) }

// group prints one connector group.
func (p *printer) group(g client.Group) error { return printOne(p, &groupColumns, g) }

// printOne prints one item as its columns say.
func printOne[T any](p *printer, cols *columns[T], v T) error {
	switch p.format {
	case "ids":
		_, err := fmt.Fprintln(p.w, cols.id(&v))
		return err
	case "json":
		b, err := p.itemJSON(v, "")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "%s\n", b)
		return err
	}
	l := listOf(p, cols)
	if err := l.page([]T{v}); err != nil {
		return err
	}
	return l.close()
}

// itemJSON is v indented as -o json prints it: with --select, only the
// properties selected (and the id).
func (p *printer) itemJSON(v any, prefix string) ([]byte, error) {
	if p.selected == nil {
		return json.MarshalIndent(v, prefix, "  ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	kept := map[string]json.RawMessage{}
	for _, name := range append([]string{"id"}, p.selected...) {
		if raw, ok := all[name]; ok {
			kept[name] = raw
		}
	}
	return json.MarshalIndent(kept, prefix, "  ")
}

// columns is how listings show items of T: a table's header and cells, the
// id -q prints, and what an empty table says.
type columns[T any] struct {
	header string
	cells  func(*T) []string
	id     func(*T) uuid.UUID
	none   string
}

var memberColumns = columns[client.Member]{
	header: "ID\tMACHINE NAME\tEXTERNAL IP\tSTATUS",
	cells: func(m *client.Member) []string {
		return []string{m.ID.String(), printable(m.MachineName), printable(m.ExternalIP), printable(string(m.Status))}
	},
	id:   func(m *client.Member) uuid.UUID { return m.ID },
	none: "no members",
}

var groupColumns = columns[client.Group]{
	header: "ID\tNAME\tREGION\tDEFAULT",
	cells: func(g *client.Group) []string {
		region := "-"
		if g.Region != nil {
			region = printable(string(*g.Region))
		}
		return []string{g.ID.String(), printable(g.Name), region, strconv.FormatBool(g.IsDefault)}
	},
	id:   func(g *client.Group) uuid.UUID { return g.ID },
	none: "no connector groups",
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

// listing prints items page by page, as they arrive. JSON is still one
// document: an array, opened before the first page and closed after the last
// (or at an error, so that what was printed parses).
type listing[T any] struct {
	p       *printer
	cols    *columns[T]
	started bool
	count   int
}

func listOf[T any](p *printer, cols *columns[T]) *listing[T] { return &listing[T]{p: p, cols: cols} }

func (l *listing[T]) page(items []T) error {
	w := l.p.w
	switch l.p.format {
	case "ids":
		for i := range items {
			if _, err := fmt.Fprintln(w, l.cols.id(&items[i])); err != nil {
				return err
			}
		}
		return nil
	case "json":
		for _, v := range items {
			sep := ",\n"
			if l.count == 0 {
				sep = "[\n"
			}
			b, err := l.p.itemJSON(v, "  ")
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
		fmt.Fprintln(tw, l.cols.header)
		l.started = true
	}
	for i := range items {
		fmt.Fprintln(tw, strings.Join(l.cols.cells(&items[i]), "\t"))
	}
	l.count += len(items)
	return tw.Flush()
}

// abort ends a listing cut short by an error: a JSON array begun is closed,
// so that what was printed still parses; nothing else is printed.
func (l *listing[T]) abort() error {
	if l.p.format == "json" && l.count > 0 {
		_, err := io.WriteString(l.p.w, "\n]\n")
		return err
	}
	return nil
}

func (l *listing[T]) close() error {
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
			_, err := fmt.Fprintln(l.p.w, l.cols.none)
			return err
		}
	}
	return nil
}

// done prints the outcome of a change that answers nothing but success: the
// id it was about and what happened to it.
func (p *printer) done(id uuid.UUID, what string) error {
	switch p.format {
	case "ids":
		_, err := fmt.Fprintln(p.w, id)
		return err
	case "json":
		return json.NewEncoder(p.w).Encode(struct {
			ID     string `json:"id"`
			Result string `json:"result"`
		}{id.String(), what})
	}
	_, err := fmt.Fprintf(p.w, "%s: %s\n", id, what)
	return err
}
