package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated/admin"
	"github.com/connector-group/members-api/generated/admin/adminserver"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/journal"
	"github.com/connector-group/members-api/server/store"
)

// adminHandlers implements the admin API (openapi/admin.yaml): the journal,
// reset, the fault settings and the applications.
type adminHandlers struct {
	store     store.Store
	journal   *journal.Journal
	misbehave *faults.Injector
	// serviceOperations are the operationIds a fault's scope can name.
	serviceOperations map[string]bool
	dashboard         []byte // the /_admin/ page, rendered at start-up
	// dashboardPolicy is its Content-Security-Policy, which names its inline
	// script by hash.
	dashboardPolicy string
	dashboardPath   string // where /_admin redirects
}

var _ adminserver.ServerInterface = (*adminHandlers)(nil)

// ListRequests answers the journal, newest first, filtered, $top entries at
// the most (100 unless asked). The answer is written as it is encoded, an
// entry at a time: a listing costs memory in proportion to an entry, however
// large the journal, the page or the entries' bodies (a body of control
// bytes is six times its size in JSON).
func (a *adminHandlers) ListRequests(c echo.Context, params admin.ListRequestsParams) error {
	f := journal.Filter{Operation: params.Operation, Top: admin.ListRequestsTopDefault}
	if params.ApplicationID != nil {
		f.ApplicationID = params.ApplicationID.String()
	}
	if params.Status != nil {
		f.Status = *params.Status
	}
	if params.Top != nil {
		f.Top = *params.Top
	}
	if params.Disagreements != nil {
		f.Disagreements = *params.Disagreements
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if _, err := io.WriteString(w, `{"value":[`); err != nil {
		return err
	}
	first := true
	err := a.journal.Each(f, func(e journal.Entry) error {
		if !first {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		first = false
		return enc.Encode(journalEntryJSON(e))
	})
	if err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	_, err = io.WriteString(w, "]}\n")
	return err
}

// journalEntryJSON is an entry as the admin API shows it.
func journalEntryJSON(e journal.Entry) admin.JournalEntry {
	out := admin.JournalEntry{
		Time: e.Time, RequestID: e.RequestID, Method: e.Method, Path: e.Path, Operation: e.Operation,
		Status: e.Status, DurationMs: float64(e.Duration.Microseconds()) / 1000, Headers: e.Headers,
	}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	optional := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	out.ClientRequestID, out.ApplicationID, out.ErrorCode = optional(e.ClientRequestID), optional(e.ApplicationID), optional(e.ErrorCode)
	out.UserAgent, out.Body, out.ResponseBody = optional(e.UserAgent), optional(e.Body), optional(e.ResponseBody)
	if e.BodyTruncated {
		out.BodyTruncated = &e.BodyTruncated
	}
	if e.ResponseBodyTruncated {
		out.ResponseBodyTruncated = &e.ResponseBodyTruncated
	}
	if e.ResponseHeaders != nil {
		out.ResponseHeaders = &e.ResponseHeaders
	}
	if e.Proxied {
		out.Proxied = &e.Proxied
	}
	if len(e.Disagreements) > 0 {
		ds := make([]admin.Disagreement, len(e.Disagreements))
		for i, d := range e.Disagreements {
			ds[i] = admin.Disagreement{Direction: admin.DisagreementDirection(d.Direction), Pointer: d.Pointer, Spec: d.Spec, Arrived: d.Arrived}
		}
		out.Disagreements = &ds
	}
	if e.Fault != 0 {
		out.Fault = &e.Fault
	}
	if len(e.Targets) > 0 {
		out.Targets = &e.Targets
	}
	return out
}

// ClearRequests empties the journal.
func (a *adminHandlers) ClearRequests(c echo.Context, _ admin.ClearRequestsParams) error {
	a.journal.Clear()
	return c.NoContent(http.StatusNoContent)
}

// Reset empties every group, the journal and the fault settings (unless
// keepFaults), or one application's group.
func (a *adminHandlers) Reset(c echo.Context, params admin.ResetParams) error {
	if err := a.store.Reset(storeContext(c), params.ApplicationID); err != nil {
		return fmt.Errorf("resetting: %w", err)
	}
	if params.ApplicationID == nil {
		a.journal.Clear()
		if params.KeepFaults == nil || !*params.KeepFaults {
			_ = a.misbehave.Set(faults.Settings{}) // the zero Settings always pass Check
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// GetFaults answers the settings in force.
func (a *adminHandlers) GetFaults(c echo.Context, _ admin.GetFaultsParams) error {
	return c.JSON(http.StatusOK, faultSettingsJSON(a.misbehave.Settings()))
}

// SetFaults replaces the settings and answers them.
func (a *adminHandlers) SetFaults(c echo.Context, _ admin.SetFaultsParams) error {
	in, err := bodyOf[admin.SetFaultsJSONRequestBody](c)
	if err != nil {
		return err
	}
	var f faults.Settings
	if err := a.overlayFaults(*in, &f); err != nil {
		return err
	}
	if err := a.misbehave.Set(f); err != nil {
		return badRequest([]reqcheck.Violation{{Message: err.Error()}})
	}
	return c.JSON(http.StatusOK, faultSettingsJSON(a.misbehave.Settings()))
}

// MergeFaults changes the settings the body gives, keeps the others, and
// answers them.
func (a *adminHandlers) MergeFaults(c echo.Context, _ admin.MergeFaultsParams) error {
	in, err := bodyOf[admin.MergeFaultsJSONRequestBody](c)
	if err != nil {
		return err
	}
	var refused error
	f, err := a.misbehave.Update(func(f *faults.Settings) error {
		refused = a.overlayFaults(*in, f)
		return refused
	})
	switch {
	case refused != nil:
		return refused
	case err != nil:
		return badRequest([]reqcheck.Violation{{Message: err.Error()}})
	}
	return c.JSON(http.StatusOK, faultSettingsJSON(f))
}

// ClearFaults turns every setting off.
func (a *adminHandlers) ClearFaults(c echo.Context, _ admin.ClearFaultsParams) error {
	_ = a.misbehave.Set(faults.Settings{}) // the zero Settings always pass Check
	return c.NoContent(http.StatusNoContent)
}

// overlayFaults sets in f each setting in gives, leaving the others as they
// are; what the spec cannot say (that a latency parses, that an operation is
// one of the service's) is a 400 naming the property.
func (a *adminHandlers) overlayFaults(in admin.FaultSettings, f *faults.Settings) error {
	var problems []reqcheck.Violation
	var err error
	if in.Latency != nil {
		if f.Latency, err = faults.ParseLatency(*in.Latency); err != nil {
			problems = append(problems, reqcheck.Violation{Target: "/latency", Message: err.Error()})
		}
	}
	if in.RateLimit != nil {
		if f.RateLimit, err = faults.ParseRateLimit(*in.RateLimit); err != nil {
			problems = append(problems, reqcheck.Violation{Target: "/rateLimit", Message: err.Error()})
		}
	}
	if in.RetryAfter != nil {
		f.RetryAfter = 0
		if *in.RetryAfter != "" && *in.RetryAfter != "0" {
			if f.RetryAfter, err = faults.ParseDuration(*in.RetryAfter); err != nil {
				problems = append(problems, reqcheck.Violation{Target: "/retryAfter", Message: fmt.Sprintf("retry-after %s: want a duration such as 2s", reqcheck.Quote(*in.RetryAfter))})
			}
		}
	}
	if in.FaultRate != nil {
		f.FaultRate = *in.FaultRate
	}
	if in.FaultCodes != nil {
		f.FaultCodes = f.FaultCodes[:0]
		for _, code := range *in.FaultCodes {
			f.FaultCodes = append(f.FaultCodes, int(code))
		}
	}
	if in.Operations != nil {
		f.Scope.Operations = f.Scope.Operations[:0]
		for i, op := range *in.Operations {
			if !a.serviceOperations[op] {
				problems = append(problems, reqcheck.Violation{Target: fmt.Sprintf("/operations/%d", i),
					Message: fmt.Sprintf("operation %s: not an operationId of the service (the journal's operation names them)", reqcheck.Quote(op))})
			}
			f.Scope.Operations = append(f.Scope.Operations, op)
		}
	}
	if in.TargetID != nil {
		f.Scope.Target = strings.ToLower(*in.TargetID)
	}
	if in.Remaining != nil {
		f.Scope.Remaining = *in.Remaining
	}
	if len(problems) > 0 {
		return badRequest(problems)
	}
	return nil
}

// faultSettingsJSON is the settings as the admin API shows them: every one,
// off ones empty or 0.
func faultSettingsJSON(f faults.Settings) admin.FaultSettings {
	latency, rateLimit := f.Latency.String(), f.RateLimit.String()
	retryAfter := max(f.RetryAfter, time.Second).String()
	codes := f.FaultCodes
	if len(codes) == 0 {
		codes = faults.DefaultCodes()
	}
	out := make([]admin.FaultSettingsFaultCodes, len(codes))
	for i, code := range codes {
		out[i] = admin.FaultSettingsFaultCodes(code)
	}
	rate := f.FaultRate
	operations := f.Scope.Operations
	if operations == nil {
		operations = []string{}
	}
	target, remaining := f.Scope.Target, f.Scope.Remaining
	return admin.FaultSettings{Latency: &latency, FaultRate: &rate, FaultCodes: &out, RetryAfter: &retryAfter, RateLimit: &rateLimit,
		Operations: &operations, TargetID: &target, Remaining: &remaining}
}

// ListApplications answers a page of the applications with members.
func (a *adminHandlers) ListApplications(c echo.Context, params admin.ListApplicationsParams) error {
	top, after := admin.ListApplicationsTopDefault, int64(0)
	if params.Top != nil {
		top = *params.Top
	}
	if params.After != nil {
		after = *params.After
	}
	page, err := a.store.Applications(storeContext(c), store.Cursor(after), top)
	if err != nil {
		return fmt.Errorf("listing the applications: %w", err)
	}
	out := admin.ApplicationList{Value: make([]admin.Application, len(page.Applications)), Total: page.Total}
	for i, app := range page.Applications {
		out.Value[i] = admin.Application{ID: app.ID, MemberCount: app.Members}
	}
	if page.More {
		next := fmt.Sprintf("%s?$top=%d&after=%d", c.Request().URL.Path, top, page.Next)
		out.Next = &next
	}
	return c.JSON(http.StatusOK, out)
}
