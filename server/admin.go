package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	dashboard []byte // the /_admin/ page, rendered at start-up
	// dashboardPolicy is its Content-Security-Policy, which names its inline
	// script by hash.
	dashboardPolicy string
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
	out.UserAgent, out.Body = optional(e.UserAgent), optional(e.Body)
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

// Reset empties every group and the journal, or one application's group.
func (a *adminHandlers) Reset(c echo.Context, params admin.ResetParams) error {
	if err := a.store.Reset(storeContext(c), params.ApplicationID); err != nil {
		return fmt.Errorf("resetting: %w", err)
	}
	if params.ApplicationID == nil {
		a.journal.Clear()
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
	f, err := faultsFromJSON(*in)
	if err != nil {
		return err
	}
	if err := a.misbehave.Set(f); err != nil {
		return badRequest([]reqcheck.Violation{{Message: err.Error()}})
	}
	return c.JSON(http.StatusOK, faultSettingsJSON(a.misbehave.Settings()))
}

// faultsFromJSON reads the settings of a PUT; what the spec cannot say (that
// a latency parses) is a 400 naming the property.
func faultsFromJSON(in admin.FaultSettings) (faults.Settings, error) {
	var f faults.Settings
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
	if in.RetryAfter != nil && *in.RetryAfter != "" && *in.RetryAfter != "0" {
		if f.RetryAfter, err = faults.ParseDuration(*in.RetryAfter); err != nil {
			problems = append(problems, reqcheck.Violation{Target: "/retryAfter", Message: fmt.Sprintf("retry-after %s: want a duration such as 2s", reqcheck.Quote(*in.RetryAfter))})
		}
	}
	if in.FaultRate != nil {
		f.FaultRate = *in.FaultRate
	}
	if in.FaultCodes != nil {
		for _, code := range *in.FaultCodes {
			f.FaultCodes = append(f.FaultCodes, int(code))
		}
	}
	if len(problems) > 0 {
		return faults.Settings{}, badRequest(problems)
	}
	return f, nil
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
	return admin.FaultSettings{Latency: &latency, FaultRate: &rate, FaultCodes: &out, RetryAfter: &retryAfter, RateLimit: &rateLimit}
}

// ListApplications answers the applications with members.
func (a *adminHandlers) ListApplications(c echo.Context, _ admin.ListApplicationsParams) error {
	apps, err := a.store.Applications(storeContext(c))
	if err != nil {
		return fmt.Errorf("listing the applications: %w", err)
	}
	out := admin.ApplicationList{Value: make([]admin.Application, len(apps))}
	for i, app := range apps {
		out.Value[i] = admin.Application{ID: app.ID, MemberCount: app.Members}
	}
	return c.JSON(http.StatusOK, out)
}
