package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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

// processCollectors are the Go runtime's and the process's collectors: one
// pair for the process, registered with every server's registry (making them
// took a tenth of starting a mock, and they describe the process, not it).
var processCollectors = sync.OnceValue(func() [2]prometheus.Collector {
	return [2]prometheus.Collector{
		&recentCollector{inner: collectors.NewGoCollector(), fresh: time.Second},
		&recentCollector{inner: collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), fresh: time.Second},
	}
})

// recentCollector answers with what inner collected less than fresh ago, or
// collects anew. The runtime's and the process's figures (read from
// runtime/metrics and /proc: most of a scrape's cost, some 0.5 ms, whatever
// the state) need not be newer than a second for a scraper that comes every
// few; the mock's own series are always current.
type recentCollector struct {
	inner prometheus.Collector
	fresh time.Duration
	mu    sync.Mutex
	at    time.Time
	kept  []prometheus.Metric
}

// Describe implements prometheus.Collector.
func (c *recentCollector) Describe(ch chan<- *prometheus.Desc) { c.inner.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *recentCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if now := time.Now(); now.Sub(c.at) >= c.fresh {
		metrics := make(chan prometheus.Metric, 64)
		go func() { c.inner.Collect(metrics); close(metrics) }()
		var kept []prometheus.Metric // new: a scrape still sending the last ones reads those
		for m := range metrics {
			kept = append(kept, m)
		}
		c.kept = kept
		c.at = now
	}
	kept := c.kept
	c.mu.Unlock()
	for _, m := range kept {
		ch <- m
	}
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
		process := processCollectors()
		m.registry.MustRegister(m.requests, m.duration, m.validations, m.faults, m.disagreements, m.connOpen, m.connRefused, process[0], process[1])
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
	scrape := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{DisableCompression: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.register()
		scrape.ServeHTTP(w, r)
	})
}
