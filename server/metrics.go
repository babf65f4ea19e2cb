package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/connector-group/members-api/server/store"
)

// metrics are the mock's Prometheus series, on a registry of the server's
// own (no global state: two servers in one test binary count apart).
type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	validations *prometheus.CounterVec
	faults      *prometheus.CounterVec
	// disagreements counts, in proxy mode, where exchanges and the spec
	// differ, by operation and direction (both bounded by the spec).
	disagreements *prometheus.CounterVec
	// connections open, and refused at --max-connections.
	connOpen    prometheus.Gauge
	connRefused prometheus.Counter

	// The series in use, looked up once: a request finds its counters in a
	// sync.Map instead of hashing label values into the vectors.
	series sync.Map // seriesKey -> *requestSeries

	mu      sync.Mutex
	targets map[string]prometheus.Counter // the target labels in use

	register func() // registers the collectors with registry, once
}

type seriesKey struct {
	operation string
	status    int
}

// requestSeries are the series one (operation, status) pair counts into.
type requestSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// maxTargetLabels bounds the target label's values: a target can be a JSON
// pointer naming a property a client made up, and every label value is a
// series kept for ever. Past the bound, targets are counted as "(other)".
const maxTargetLabels = 64

// processMetrics gathers the Go runtime's and the process's series: one
// registry for the process, which every server's /metrics answers from (they
// describe the process, not a server; making the collectors took a tenth of
// starting a mock), with what it gathered less than a second ago. Those
// figures (runtime/metrics, /proc reads, and checking and converting some 40
// families) were most of a scrape's cost whatever the state, and need not be
// newer for a scraper that comes every few seconds; a server's own series
// are always gathered anew.
var processMetrics = sync.OnceValue(func() prometheus.Gatherer {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &recentGatherer{inner: r, fresh: time.Second}
})

// recentGatherer answers with what inner gathered less than fresh ago, or
// gathers anew. prometheus.Gatherers copies the families it merges into new
// ones, so the kept families are only read.
type recentGatherer struct {
	inner prometheus.Gatherer
	fresh time.Duration
	mu    sync.Mutex
	at    time.Time
	kept  []*dto.MetricFamily
}

// Gather implements prometheus.Gatherer.
func (g *recentGatherer) Gather() ([]*dto.MetricFamily, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := time.Now(); now.Sub(g.at) >= g.fresh {
		kept, err := g.inner.Gather()
		if err != nil {
			return kept, err
		}
		g.kept, g.at = kept, now
	}
	return g.kept, nil
}

func newMetrics(members store.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_mock_requests_total", Help: "Requests answered, by operation (empty for no route) and status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "connector_mock_request_duration_seconds", Help: "Time to answer a request, injected latency included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_mock_validation_failures_total", Help: "Violations reported in 400 answers, by target.",
		}, []string{"target"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_mock_faults_injected_total", Help: "Faults injected on purpose, by status.",
		}, []string{"code"}),
		disagreements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_mock_proxy_disagreements_total", Help: "Where a proxied request or answer and the spec differ, by operation and direction (request, response).",
		}, []string{"operation", "direction"}),
		connOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "connector_mock_connections_open", Help: "Client connections open.",
		}),
		connRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "connector_mock_connections_refused_total", Help: "Client connections closed at once, for want of room under --max-connections.",
		}),
		targets: map[string]prometheus.Counter{},
	}
	// Registered on the first scrape: most mocks (one per test) are never
	// scraped, and registering took a tenth of starting one. The vectors
	// count from the first request either way.
	m.register = sync.OnceFunc(func() {
		m.registry.MustRegister(m.requests, m.duration, m.validations, m.faults, m.disagreements, m.connOpen, m.connRefused)
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "connector_mock_members", Help: "Members held, in all groups.",
		}, func() float64 { return float64(members.Members()) }))
	})
	return m
}

// ConnOpened, ConnClosed and ConnRefused count the connections a listener
// limited by httplimits.LimitListener serves and refuses.
func (m *metrics) ConnOpened()  { m.connOpen.Inc() }
func (m *metrics) ConnClosed()  { m.connOpen.Dec() }
func (m *metrics) ConnRefused() { m.connRefused.Inc() }

// disagreement counts one place where an exchange of operation and the spec differ.
func (m *metrics) disagreement(operation, direction string) {
	m.disagreements.WithLabelValues(operation, direction).Inc()
}

// observe counts one answered request for operation ("" for no route).
func (m *metrics) observe(operation string, out outcome, seconds float64) {
	key := seriesKey{operation, out.status}
	s, ok := m.series.Load(key)
	if !ok {
		s, _ = m.series.LoadOrStore(key, &requestSeries{
			requests: m.requests.WithLabelValues(operation, strconv.Itoa(out.status)),
			duration: m.duration.WithLabelValues(operation),
		})
	}
	rs := s.(*requestSeries)
	rs.requests.Inc()
	rs.duration.Observe(seconds)
	if out.fault != 0 {
		m.faults.WithLabelValues(strconv.Itoa(out.fault)).Inc()
	}
	if out.status == http.StatusBadRequest && len(out.violations) > 0 {
		m.mu.Lock()
		for _, v := range out.violations {
			m.target(v.Target).Inc()
		}
		m.mu.Unlock()
	}
}

// target is the counter of a target label; m.mu held.
func (m *metrics) target(t string) prometheus.Counter {
	if c, ok := m.targets[t]; ok {
		return c
	}
	if len(m.targets) >= maxTargetLabels {
		t = "(other)"
		if c, ok := m.targets[t]; ok {
			return c
		}
	}
	c := m.validations.WithLabelValues(t)
	m.targets[t] = c
	return c
}

func (m *metrics) handler() http.Handler {
	// Uncompressed: a scrape of the mock crosses a loopback or a container
	// network, where gzip's CPU (most of a scrape's cost then) buys nothing.
	scrape := promhttp.HandlerFor(prometheus.Gatherers{m.registry, processMetrics()}, promhttp.HandlerOpts{DisableCompression: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.register()
		scrape.ServeHTTP(w, r)
	})
}
