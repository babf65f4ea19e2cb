package server

import (
	"net/http"
	"strconv"
	"sync"

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

	// The series in use, looked up once: a request finds its counters in a
	// sync.Map instead of hashing label values into the vectors.
	series sync.Map // seriesKey -> *requestSeries

	mu      sync.Mutex
	targets map[string]prometheus.Counter // the target labels in use
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
		targets: map[string]prometheus.Counter{},
	}
	m.registry.MustRegister(m.requests, m.duration, m.validations, m.faults,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "connector_mock_members", Help: "Members held, in all groups.",
	}, func() float64 { return float64(members.Members()) }))
	return m
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
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
