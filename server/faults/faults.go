// Package faults decides how the mock misbehaves on purpose: latency,
// injected failures and rate limiting, per member operation. It knows
// nothing of HTTP but the headers it asks to send.
package faults

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/admin"
)

// Settings are the ways the mock misbehaves on purpose, so that client code can
// be tested against a service that is slow, throttles and fails. They apply
// to member operations only; the zero Settings is a well-behaved service.
type Settings struct {
	// Latency delays every member operation by a time drawn uniformly from
	// the range (Min == Max for a fixed delay).
	Latency Latency
	// FaultRate is the share (0 to 1) of member operations that fail with a
	// status drawn from FaultCodes.
	FaultRate float64
	// FaultCodes are the statuses faults use, from Statuses; empty means
	// DefaultCodes.
	FaultCodes Codes
	// RetryAfter is sent, in whole seconds and at least 1, with a 429 or 503
	// fault; 0 means one second.
	RetryAfter time.Duration
	// RateLimit bounds member operations per bearer token; the zero value
	// is no limit.
	RateLimit RateLimit
	// Scope narrows the requests the settings apply to; the zero Scope is
	// every request of the service, without end.
	Scope Scope
}

// Scope narrows the requests of the service that misbehave: requests out of
// scope are served as by a well-behaved service (a fault asked for with
// Prefer: code= still applies to them).
type Scope struct {
	// Operations are the operationIds in scope; empty is every one.
	Operations []string
	// Target is the application or connector group in scope, as a request's
	// path names it; "" is any.
	Target string
	// Remaining is how many more requests in scope the settings apply to;
	// after the last, every setting turns off. 0 is no bound.
	Remaining int64
}

// Request is what the injector knows of a request it decides for.
type Request struct {
	Token     string // the bearer token: each caller has its own rate limit
	Operation string // the operationId
	Target    string // the application or connector group its path names, or ""
	Forced    int    // the status asked for with Prefer: code=, or 0
}

// covers tells whether r is in scope.
func (s Scope) covers(r Request) bool {
	if len(s.Operations) > 0 && !slices.Contains(s.Operations, r.Operation) {
		return false
	}
	return s.Target == "" || strings.EqualFold(s.Target, r.Target)
}

// Latency is a range of delays.
type Latency struct {
	Min, Max time.Duration
}

// RateLimit is at most Requests member operations per bearer token in each
// Window.
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// Statuses are the statuses a fault can answer with: the values of the
// admin API's faultCodes, from the spec.
func Statuses() []int {
	values := admin.FaultSettingsFaultCodesValues()
	out := make([]int, len(values))
	for i, v := range values {
		out[i] = int(v)
	}
	return out
}

// IsStatus tells whether status is one a fault can answer with.
func IsStatus(status int) bool { return admin.FaultSettingsFaultCodes(status).Valid() }

// Code is the error code a fault of status carries, as the real service
// names it.
func Code(status int) generated.ErrorCode {
	switch status {
	case http.StatusTooManyRequests:
		return generated.ErrorCodeTooManyRequests
	case http.StatusBadGateway:
		return generated.ErrorCodeBadGateway
	case http.StatusServiceUnavailable:
		return generated.ErrorCodeServiceUnavailable
	case http.StatusGatewayTimeout:
		return generated.ErrorCodeGatewayTimeout
	}
	return generated.ErrorCodeInternalServerError
}

// DefaultCodes are the statuses faults use unless told otherwise: the ones
// a client is expected to retry.
func DefaultCodes() []int {
	return []int{http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
}

// codesText lists the statuses for a Message: "429, 500, 502, 503, 504".
func codesText() string {
	var b strings.Builder
	for i, code := range Statuses() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(code))
	}
	return b.String()
}

// Check reports what is wrong with f, naming each setting.
func (f Settings) Check() error {
	var problems []error
	if f.Latency.Min < 0 || f.Latency.Max < f.Latency.Min {
		problems = append(problems, fmt.Errorf("latency %s: want a delay, or a range from the lower to the higher", f.Latency))
	}
	if math.IsNaN(f.FaultRate) || f.FaultRate < 0 || f.FaultRate > 1 {
		problems = append(problems, fmt.Errorf("fault rate %v: want a share from 0 to 1", f.FaultRate))
	}
	for _, code := range f.FaultCodes {
		if !IsStatus(code) {
			problems = append(problems, fmt.Errorf("fault code %d: want one of %s", code, codesText()))
		}
	}
	if f.RetryAfter < 0 {
		problems = append(problems, fmt.Errorf("retry-after %s: want a positive duration", f.RetryAfter))
	}
	if f.RateLimit.Requests < 0 || f.RateLimit.Requests > 0 && f.RateLimit.Window <= 0 {
		problems = append(problems, fmt.Errorf("rate limit %s: want requests/window, such as 120/60s", f.RateLimit))
	}
	if f.Scope.Remaining < 0 {
		problems = append(problems, fmt.Errorf("remaining %d: want a count of requests, or 0 for no bound", f.Scope.Remaining))
	}
	return errors.Join(problems...)
}

// String writes the latency as ParseLatency reads it; "" for none.
func (l Latency) String() string {
	switch {
	case l.Max == 0:
		return ""
	case l.Min == l.Max:
		return l.Min.String()
	}
	return l.Min.String() + "-" + l.Max.String()
}

// ParseLatency reads "200ms" or "50ms-300ms"; "" or "0" is none. It reads
// exactly the grammar of faultSettings.latency's pattern in admin.yaml (a
// test holds them together), and then wants the lower bound first.
func ParseLatency(s string) (Latency, error) {
	if s == "" || s == "0" {
		return Latency{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	min, err := ParseDuration(lo)
	if err != nil {
		return Latency{}, fmt.Errorf("latency %q: %w", s, err)
	}
	max := min
	if isRange {
		if max, err = ParseDuration(hi); err != nil {
			return Latency{}, fmt.Errorf("latency %q: %w", s, err)
		}
	}
	if max < min {
		return Latency{}, fmt.Errorf("latency %q: want a delay, or a range from the lower to the higher", s)
	}
	return Latency{Min: min, Max: max}, nil
}

var errNotADuration = errors.New("want a duration with its unit and without a sign, such as 200ms")

// ParseDuration reads a Go duration without a sign ("2s", "1m30s",
// "1.5h"): time.ParseDuration, without the sign it allows and without its
// bare "0", as the duration of admin.yaml's patterns is written.
func ParseDuration(s string) (time.Duration, error) {
	if s == "0" || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, errNotADuration
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errNotADuration
	}
	return d, nil
}

// String writes the limit as ParseRateLimit reads it; "" for none.
func (r RateLimit) String() string {
	if r.Requests == 0 {
		return ""
	}
	return strconv.Itoa(r.Requests) + "/" + r.Window.String()
}

// ParseRateLimit reads "120/60s" (requests per window); "" or "0" is none.
// It reads exactly the grammar of faultSettings.rateLimit's pattern in
// admin.yaml (a test holds them together), and then wants a window above 0.
func ParseRateLimit(s string) (RateLimit, error) {
	if s == "" || s == "0" {
		return RateLimit{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	requests, err := strconv.Atoi(n)
	if !ok || err != nil || requests <= 0 || n[0] == '0' || n[0] == '+' || len(n) > 9 {
		return RateLimit{}, fmt.Errorf("rate limit %q: want requests/window, such as 120/60s", s)
	}
	window, err := ParseDuration(w)
	if err != nil || window <= 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: want requests/window, such as 120/60s", s)
	}
	return RateLimit{Requests: requests, Window: window}, nil
}

// Codes are the statuses faults use; nil means DefaultCodes.
type Codes []int

// MarshalText writes the codes as ParseFaultCodes reads them: "429,503".
func (c Codes) MarshalText() ([]byte, error) {
	var b []byte
	for i, code := range c {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return b, nil
}

// UnmarshalText reads what ParseFaultCodes reads.
func (c *Codes) UnmarshalText(text []byte) (err error) {
	*c, err = ParseFaultCodes(string(text))
	return err
}

// MarshalText writes the latency as ParseLatency reads it.
func (l Latency) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads what ParseLatency reads.
func (l *Latency) UnmarshalText(text []byte) (err error) {
	*l, err = ParseLatency(string(text))
	return err
}

// MarshalText writes the limit as ParseRateLimit reads it.
func (r RateLimit) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads what ParseRateLimit reads.
func (r *RateLimit) UnmarshalText(text []byte) (err error) {
	*r, err = ParseRateLimit(string(text))
	return err
}

// ParseFaultCodes reads "429,503,504"; "" is the default set.
func ParseFaultCodes(s string) (Codes, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var codes Codes
	for _, part := range strings.Split(s, ",") {
		code, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || !IsStatus(code) {
			return nil, fmt.Errorf("fault code %q: want one of %s", strings.TrimSpace(part), codesText())
		}
		codes = append(codes, code)
	}
	return codes, nil
}

// fault is one injected failure: the status and how long to tell the
// client to wait (0: no Retry-After).
type Fault struct {
	Status     int
	RetryAfter int // seconds; 0: no Retry-After
	Message    string
}

// faultMessages are what each fault tells the client, in the real service's manner.
var faultMessages = map[int]string{
	http.StatusTooManyRequests:     "Too many requests. Retry after the time in Retry-After.",
	http.StatusInternalServerError: "An unexpected error occurred. The request-id identifies the details in the server's log.",
	http.StatusBadGateway:          "The service received an invalid response from an upstream server.",
	http.StatusServiceUnavailable:  "The service is temporarily unavailable. Retry after the time in Retry-After.",
	http.StatusGatewayTimeout:      "The service timed out waiting for an upstream server.",
}

// injector decides, per member operation, whether and how to misbehave. It
// is safe for concurrent use, and its settings can change at any time.
type Injector struct {
	// active says some fault is set: without one, a request does not even
	// take the lock (Prefer: code= still works).
	active    atomic.Bool
	mu        sync.Mutex
	faults    Settings
	rng       *rand.Rand
	now       func() time.Time
	callers   map[[sha256.Size]byte]*caller // by bearer token, hashed: no token is kept
	lastSweep time.Time
	// maxCallers bounds callers: without --token any token is accepted, so
	// a client making up a token per request could grow it without bound.
	maxCallers int
}

// defaultMaxCallers is how many bearer tokens the injector remembers at the
// most (some 15 MB); one more is served, but not counted against a limit.
const defaultMaxCallers = 100_000

// caller is what the injector remembers of one bearer token.
type caller struct {
	windowStart  time.Time
	used         int
	blockedUntil time.Time // an earlier 429 said to wait until then
}

// NewInjector starts with faults; seed 0 draws faults and latencies from a
// random seed, any other seed from that one, so a run can be repeated.
func NewInjector(faults Settings, seed uint64) (*Injector, error) {
	if err := faults.Check(); err != nil {
		return nil, err
	}
	if seed == 0 {
		seed = rand.Uint64()
	}
	in := &Injector{faults: faults, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: time.Now,
		callers: map[[sha256.Size]byte]*caller{}, maxCallers: defaultMaxCallers}
	in.active.Store(faults.set())
	return in, nil
}

// set says whether any fault is set.
func (f Settings) set() bool {
	return f.Latency.Max > 0 || f.FaultRate > 0 || f.RateLimit.Requests > 0
}

// Settings are the settings in force.
// Active tells whether any misbehaviour is set: without it, only a fault
// asked for with Prefer: code= needs a decision.
func (in *Injector) Active() bool { return in.active.Load() }

// Settings are the settings in force.
func (in *Injector) Settings() Settings {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.faults.clone()
}

// clone is f with slices of its own.
func (f Settings) clone() Settings {
	f.FaultCodes = slices.Clone(f.FaultCodes)
	f.Scope.Operations = slices.Clone(f.Scope.Operations)
	return f
}

// Set replaces the settings, from the next decision on. A new rate limit
// starts every caller's window afresh.
func (in *Injector) Set(f Settings) error {
	if err := f.Check(); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.setLocked(f.clone())
	return nil
}

// Update changes the settings with change, atomically (a merge: what a
// PATCH of the admin API does), from the next decision on, and returns them.
func (in *Injector) Update(change func(*Settings) error) (Settings, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	f := in.faults.clone()
	if err := change(&f); err != nil {
		return Settings{}, err
	}
	if err := f.Check(); err != nil {
		return Settings{}, err
	}
	in.setLocked(f)
	return in.faults.clone(), nil
}

// setLocked puts f in force.
func (in *Injector) setLocked(f Settings) {
	if f.RateLimit != in.faults.RateLimit || !f.set() {
		clear(in.callers) // a new limit, or none: every caller starts afresh
	}
	in.faults = f
	in.active.Store(f.set())
}

// Decision is what the injector makes of one member operation.
type Decision struct {
	Fault     *Fault        // nil: no fault
	Delay     time.Duration // wait this long before answering
	RateLimit http.Header   // RateLimit-* headers, when a limit is set
}

// Decide draws the fate of request r. The draws happen in a fixed order
// (fault, then latency), so a seed repeats a run. A request out of the
// settings' scope meets only the fault it forced.
func (in *Injector) Decide(r Request) Decision {
	in.mu.Lock()
	defer in.mu.Unlock()
	f := in.faults
	token, forced := r.Token, r.Forced
	inScope := f.Scope.covers(r)
	if !inScope {
		f = Settings{}
	} else if f.Scope.Remaining > 0 {
		// This request is one of the remaining: the last turns them off.
		if in.faults.Scope.Remaining--; in.faults.Scope.Remaining == 0 {
			in.setLocked(Settings{})
		}
	}
	var d Decision
	now := in.now()
	if f.RateLimit.Requests > 0 || inScope && len(in.callers) > 0 {
		c := in.caller(token, now)
		if f.RateLimit.Requests > 0 {
			if now.Sub(c.windowStart) >= f.RateLimit.Window {
				c.windowStart, c.used = now, 0
			}
			c.used++
			reset := c.windowStart.Add(f.RateLimit.Window).Sub(now)
			d.RateLimit = http.Header{
				"Ratelimit-Limit":     {strconv.Itoa(f.RateLimit.Requests)},
				"Ratelimit-Remaining": {strconv.Itoa(max(f.RateLimit.Requests-c.used, 0))},
				"Ratelimit-Reset":     {strconv.Itoa(ceilSeconds(reset))},
			}
			if c.used > f.RateLimit.Requests && now.After(c.blockedUntil) {
				c.blockedUntil = now.Add(time.Duration(ceilSeconds(reset)) * time.Second)
			}
		}
		if now.Before(c.blockedUntil) {
			d.Fault = &Fault{Status: http.StatusTooManyRequests, RetryAfter: ceilSeconds(c.blockedUntil.Sub(now)),
				Message: faultMessages[http.StatusTooManyRequests]}
		}
	}
	if d.Fault == nil {
		switch {
		case forced != 0:
			d.Fault = in.fault(f, forced)
		case f.FaultRate > 0 && in.rng.Float64() < f.FaultRate:
			codes := f.FaultCodes
			if len(codes) == 0 {
				codes = DefaultCodes()
			}
			// A drawn fault depends on the draw alone: a drawn 429 does not
			// throttle the caller's next requests (only --rate-limit does),
			// so a seed repeats a run however fast its requests arrive.
			d.Fault = in.fault(f, codes[in.rng.IntN(len(codes))])
		}
	}
	if f.Latency.Max > 0 {
		d.Delay = f.Latency.Min
		if spread := f.Latency.Max - f.Latency.Min; spread > 0 {
			d.Delay += time.Duration(in.rng.Int64N(int64(spread) + 1))
		}
	}
	return d
}

// fault builds the fault of status with the Retry-After of f.
func (in *Injector) fault(f Settings, status int) *Fault {
	ft := &Fault{Status: status, Message: faultMessages[status]}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		ft.RetryAfter = max(ceilSeconds(f.RetryAfter), 1)
	}
	return ft
}

// caller is the record of token, made on first use. Records whose window and
// block have passed are swept once a window, so memory follows the tokens
// seen recently; at maxCallers they are swept at most once a second, and a
// token that still finds no room gets a record that is not kept (it is not
// rate-limited: a mock's memory matters more than one caller's limit).
func (in *Injector) caller(token string, now time.Time) *caller {
	key := sha256.Sum256([]byte(token))
	if c, ok := in.callers[key]; ok {
		in.sweep(now, key, max(in.faults.RateLimit.Window, time.Minute))
		return c
	}
	in.sweep(now, key, max(in.faults.RateLimit.Window, time.Minute))
	if len(in.callers) >= in.maxCallers {
		in.sweep(now, key, time.Second)
	}
	c := &caller{windowStart: now}
	if len(in.callers) < in.maxCallers {
		in.callers[key] = c
	}
	return c
}

// sweep drops the records whose window and block have passed, if the last
// sweep is older than every.
func (in *Injector) sweep(now time.Time, keep [sha256.Size]byte, every time.Duration) {
	if now.Sub(in.lastSweep) <= every {
		return
	}
	in.lastSweep = now
	window := max(in.faults.RateLimit.Window, time.Minute)
	for k, other := range in.callers {
		if now.Sub(other.windowStart) > window && now.After(other.blockedUntil) && k != keep {
			delete(in.callers, k)
		}
	}
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}
