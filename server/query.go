package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/odata"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/store"
)

// Every collection answers the OData query options the same way: one
// listing read through its store scan, the items $filter keeps, in the order
// $orderby sets (or the listing's own), one page of them with $select's
// properties, and @odata.count or /$count when asked.
//
// Without $orderby a page resumes after the store position of its last item,
// as the plain listing does, and costs what it reads: with $filter, the items
// it passes over. With $orderby the order is the sorted one, so a page's
// $skiptoken holds how many sorted items came before it, and each page reads
// the whole listing once, keeping only the best offset+$top+1 items (time
// linear in the listing times log of that, memory of that). @odata.count
// reads the whole listing once more, as /$count does.

// queryOptions are the OData options of a collection's request, as the
// generated parameters hold them (nil: not sent).
type queryOptions struct {
	top       *int32
	skiptoken *string
	sel       *string
	filter    *string
	orderby   *string
	count     *bool
}

// scanner reads a listing's items after a position, in order, until fn says stop.
type scanner[T any] func(ctx context.Context, after store.Cursor, fn func(store.Cursor, *T) bool) error

// answer is one page of a query: its items, how many the whole listing
// holds after $filter (with $count=true), and the link to the next page.
type answer[T any] struct {
	query    *odata.Query[T]
	items    []T
	count    *int64
	nextLink *string
}

// parseQuery reads $select, $filter and $orderby against schema, or answers 400.
func parseQuery[T any](schema *odata.Schema[T], o queryOptions) (*odata.Query[T], error) {
	q, err := odata.Parse(schema, o.sel, o.filter, o.orderby)
	var qe *odata.Error
	if errors.As(err, &qe) {
		return nil, badRequest([]reqcheck.Violation{{Target: qe.Option, Message: qe.Message}})
	}
	return q, err
}

// bound is listing l bound to the query that orders and narrows it, so that
// a $skiptoken resumes only the query it came from.
func bound(l listing, o queryOptions) listing {
	if o.filter == nil && o.orderby == nil {
		return l
	}
	h := sha256.New()
	for _, s := range []*string{o.filter, o.orderby} {
		if s != nil {
			h.Write([]byte(strconv.Itoa(len(*s))))
			h.Write([]byte{':'})
			h.Write([]byte(*s))
		}
		h.Write([]byte{0})
	}
	copy(l.query[:], h.Sum(nil))
	return l
}

// runQuery answers one page of listing l, read with scan, as the options say.
func runQuery[T any](c echo.Context, h *handlers, l listing, schema *odata.Schema[T], o queryOptions, scan scanner[T]) (answer[T], error) {
	q, err := parseQuery(schema, o)
	if err != nil {
		return answer[T]{}, err
	}
	l = bound(l, o)
	after, limit, err := h.position(l, o.top, o.skiptoken)
	if err != nil {
		return answer[T]{}, err
	}
	wantCount := o.count != nil && *o.count
	a := answer[T]{query: q}
	var next store.Cursor
	var more bool
	var n int64
	ctx := storeContext(c)
	if q.Orders() {
		a.items, n, more, err = sortedPage(ctx, q, scan, int(after), limit)
		next = after + store.Cursor(len(a.items))
	} else {
		from := after
		if wantCount {
			from = 0 // the count is the whole listing's
		}
		err = scan(ctx, from, func(at store.Cursor, v *T) bool {
			if !q.Match(v) {
				return true
			}
			n++
			switch {
			case at <= after: // before the page: counted only
			case len(a.items) < limit:
				a.items = append(a.items, *v)
				next = at
			default:
				more = true
				return wantCount
			}
			return true
		})
	}
	if err != nil {
		return answer[T]{}, err
	}
	if wantCount {
		a.count = &n
	}
	if more {
		link := h.queryLink(c, o, h.tokens.encode(l, next))
		a.nextLink = &link
	}
	return a, nil
}

// sortedPage is the page of limit items after the first offset of the
// listing's items q keeps, in q's order (ties in the listing's order); how
// many items q keeps in all; and whether more follow the page.
func sortedPage[T any](ctx context.Context, q *odata.Query[T], scan scanner[T], offset, limit int) ([]T, int64, bool, error) {
	keep := offset + limit + 1 // enough to know whether more follow
	var best []T
	var n int64
	var order []int
	sortBest := func() {
		// Sorted by index, so that the comparisons read the items where
		// they are rather than copies.
		order = order[:0]
		for i := range best {
			order = append(order, i)
		}
		slices.SortStableFunc(order, func(i, j int) int { return q.Compare(&best[i], &best[j]) })
		kept := make([]T, 0, min(len(best), keep))
		for _, i := range order[:min(len(order), keep)] {
			kept = append(kept, best[i])
		}
		best = kept
	}
	err := scan(ctx, 0, func(_ store.Cursor, v *T) bool {
		if q.Match(v) {
			n++
			// Sorted and cut back to keep whenever twice that has come in:
			// the stable sort keeps earlier items before their equals.
			best = append(best, *v)
			if len(best) >= 2*keep {
				sortBest()
			}
		}
		return true
	})
	if err != nil {
		return nil, 0, false, err
	}
	sortBest()
	if offset >= len(best) {
		return nil, n, false, nil
	}
	end := min(offset+limit, len(best))
	return best[offset:end], n, len(best) > end, nil
}

// writeCount answers /$count: how many items of the listing scan reads
// $filter keeps, as text, as OData does.
func writeCount[T any](c echo.Context, schema *odata.Schema[T], filter *string, scan scanner[T]) error {
	q, err := parseQuery(schema, queryOptions{filter: filter})
	if err != nil {
		return err
	}
	var n int64
	err = scan(storeContext(c), 0, func(_ store.Cursor, v *T) bool {
		if q.Match(v) {
			n++
		}
		return true
	})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMETextPlainCharsetUTF8, strconv.AppendInt(nil, n, 10))
}

// selection reads the $select of an entity's read (nil: not sent), or answers 400.
func selection[T any](schema *odata.Schema[T], sel *string) (*odata.Query[T], error) {
	return parseQuery(schema, queryOptions{sel: sel})
}

// writeEntity answers one resource: the generated model, or, after $select,
// the properties it named.
func writeEntity[T any](c echo.Context, q *odata.Query[T], v T) error {
	if !q.Selects() {
		return c.JSON(http.StatusOK, v)
	}
	return c.JSON(http.StatusOK, q.Select(&v))
}

// writeAnswer answers a page: the generated collection (full items), or,
// after $select, the same envelope with each item's selected properties.
func writeAnswer[T any](c echo.Context, a answer[T], full func(items []T, count *int64, next *string) any) error {
	if a.items == nil {
		a.items = []T{} // an empty page is "value": [], never null
	}
	if !a.query.Selects() {
		return c.JSON(http.StatusOK, full(a.items, a.count, a.nextLink))
	}
	out := selectedCollection{Count: a.count, NextLink: a.nextLink, Value: make([]json.Marshaler, len(a.items))}
	for i := range a.items {
		out.Value[i] = a.query.Select(&a.items[i])
	}
	return c.JSON(http.StatusOK, out)
}

// selectedCollection is a page answered with $select: the OData envelope
// every collection schema of the spec has (@odata.count, @odata.nextLink,
// value), its items written as $select says. The spec lets each item of such
// an answer be its schema's selectedProperties.
type selectedCollection struct {
	Count    *int64           `json:"@odata.count,omitempty"`
	NextLink *string          `json:"@odata.nextLink,omitempty"`
	Value    []json.Marshaler `json:"value"`
}

// queryLink repeats the request's query with the $skiptoken that resumes
// after this page, keeping the page size and every option the client sent.
func (h *handlers) queryLink(c echo.Context, o queryOptions, token string) string {
	var b strings.Builder
	b.WriteString(baseURL(c))
	b.WriteString(c.Request().URL.EscapedPath()) // with its /beta or /v1.0
	b.WriteByte('?')
	if o.top != nil {
		b.WriteString("$top=")
		b.WriteString(strconv.Itoa(int(*o.top)))
		b.WriteByte('&')
	}
	for _, opt := range [...]struct {
		name  string
		value *string
	}{{"$select", o.sel}, {"$filter", o.filter}, {"$orderby", o.orderby}} {
		if opt.value != nil {
			b.WriteString(opt.name)
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(*opt.value))
			b.WriteByte('&')
		}
	}
	if o.count != nil {
		b.WriteString("$count=")
		b.WriteString(strconv.FormatBool(*o.count))
		b.WriteByte('&')
	}
	b.WriteString("$skiptoken=")
	b.WriteString(token)
	return b.String()
}

// The scanners of the collections, each item as the API shows it.

func (h *handlers) scanMembers(group *uuid.UUID) scanner[generated.Connector] {
	return func(ctx context.Context, after store.Cursor, fn func(store.Cursor, *generated.Connector) bool) error {
		return h.store.ScanMembers(ctx, group, after, func(at store.Cursor, m *store.Member) bool {
			v := toConnector(*m)
			return fn(at, &v)
		})
	}
}

func (h *handlers) scanGroups() scanner[generated.ConnectorGroup] {
	return func(ctx context.Context, after store.Cursor, fn func(store.Cursor, *generated.ConnectorGroup) bool) error {
		return h.store.ScanGroups(ctx, after, func(at store.Cursor, g *store.Group) bool {
			v := toConnectorGroup(*g)
			return fn(at, &v)
		})
	}
}

func (h *handlers) scanApplications(group uuid.UUID) scanner[generated.Application] {
	return func(ctx context.Context, after store.Cursor, fn func(store.Cursor, *generated.Application) bool) error {
		return h.store.ScanApplications(ctx, group, after, func(at store.Cursor, app uuid.UUID) bool {
			v := generated.Application{OdataType: generated.ApplicationOdataTypeHashMicrosoftGraphApplication, ID: app}
			return fn(at, &v)
		})
	}
}

// scanSlice reads items as a listing whose positions are 1, 2, ….
func scanSlice[T any](items []T) scanner[T] {
	return func(ctx context.Context, after store.Cursor, fn func(store.Cursor, *T) bool) error {
		for i := int(after); i < len(items); i++ {
			if !fn(store.Cursor(i+1), &items[i]) {
				break
			}
		}
		return ctx.Err()
	}
}
