package server

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/sync/singleflight"

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
	// ownSize is the length of the server's own families at the last
	// scrape: room to keep for them at the next.
	ownSize atomic.Int64
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
// figures (runtime/metrics, /proc reads, and checking, merging and encoding
// some 40 families) cost the same whatever the state, and need not be newer
// for a scraper that comes every few seconds; a server's own series are
// always gathered anew.
var processMetrics = sync.OnceValue(func() *recentGatherer {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &recentGatherer{inner: r, fresh: time.Second}
})

// recentGatherer answers with what inner gathered less than fresh ago, or
// gathers anew; it keeps those families encoded too, in the last format
// asked for. prometheus.Gatherers copies the families it merges into new
// ones, so the kept families are only read.
type recentGatherer struct {
	inner prometheus.Gatherer
	fresh time.Duration
	mu    sync.Mutex
	at    time.Time
	kept  []*dto.MetricFamily
	// encoded is kept in encodedAs, or nil.
	encoded   []byte
	encodedAs expfmt.Format
}

// Gather implements prometheus.Gatherer.
func (g *recentGatherer) Gather() ([]*dto.MetricFamily, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.kept, g.gatherLocked()
}

// gatherLocked gathers anew when what is kept is stale; g.mu held.
func (g *recentGatherer) gatherLocked() error {
	if now := time.Now(); now.Sub(g.at) >= g.fresh {
		kept, err := g.inner.Gather()
		if err != nil {
			return err
		}
		g.kept, g.at, g.encoded = kept, now, nil
	}
	return nil
}

// Encoded returns the families, recent as Gather's, encoded in format. The
// bytes are shared: the caller only reads them.
func (g *recentGatherer) Encoded(format expfmt.Format) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.gatherLocked(); err != nil {
		return nil, err
	}
	if g.encoded == nil || g.encodedAs != format {
		var b bytes.Buffer
		if err := encodeFamilies(&b, format, g.kept); err != nil {
			return nil, err
		}
		g.encoded, g.encodedAs = b.Bytes(), format
	}
	return g.encoded, nil
}

// encodeFamilies writes families to b in format.
func encodeFamilies(b *bytes.Buffer, format expfmt.Format, families []*dto.MetricFamily) error {
	enc := expfmt.NewEncoder(b, format)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("encoding %s: %w", f.GetName(), err)
		}
	}
	return nil
}

func newMetrics(members store.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "connector_mock_requests_total", Help: "Requests answered, by operation (empty for no route) and status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "connector_mock_request_duration_seconds", Help: "Time to answer a request, injected latency included.",
			// Steps of about 5 from half a millisecond (an answer with no
			// injected latency) to seconds (--latency, a slow fault): each
			// bucket is a line per operation in every scrape.
			Buckets: []float64{.0005, .001, .005, .025, .1, .5, 2.5},
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

// handler answers a scrape, always in the text format, the one every
// Prometheus reads and the only one the spec lists. The answer is the
// server's own families, gathered anew, then the process's, kept encoded for
// as long as they are kept (rather than merged and encoded on every scrape,
// as prometheus.Gatherers and promhttp do); and scrapes that arrive while one
// is being answered share its answer, as promhttp's CoalesceGather shares a
// gathering, so a flood of scrapers costs about what one costs. Anything
// else (a name[] filter, a gathering error to report) goes to promhttp as it
// stands.
func (m *metrics) handler() http.Handler {
	process := processMetrics()
	// Uncompressed: a scrape of the mock crosses a loopback or a container
	// network, where gzip's CPU (most of a scrape's cost then) buys nothing.
	full := promhttp.HandlerFor(prometheus.Gatherers{m.registry, process}, promhttp.HandlerOpts{DisableCompression: true, AcceptedFormats: []expfmt.Format{expfmt.FmtText}})
	var scrapes singleflight.Group
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.register()
		// The text format, with the name escaping the scraper asks for.
		format := expfmt.NegotiateAccept(r.Header, expfmt.FmtText)
		if r.URL.RawQuery != "" {
			full.ServeHTTP(w, r)
			return
		}
		body, err, _ := scrapes.Do(string(format), func() (any, error) { return m.scrapeText(format, process) })
		if err != nil {
			full.ServeHTTP(w, r)
			return
		}
		text := body.([]byte)
		w.Header().Add("Vary", "Accept")
		w.Header().Set("Content-Type", string(format))
		// Whole, with its length, in one write rather than a chunk per 4 KiB.
		w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		_, _ = w.Write(text)
	})
}

// scrapeText is a scrape's answer in format, a text format: the server's own
// families, then the process's. Families are sorted by name, as promhttp
// writes them: every own family is connector_mock_*, before go_* and
// process_*. The bytes are shared by the scrapes that wait for them.
func (m *metrics) scrapeText(format expfmt.Format, process *recentGatherer) ([]byte, error) {
	own, err := m.registry.Gather()
	if err != nil {
		return nil, err
	}
	processText, err := process.Encoded(format)
	if err != nil {
		return nil, err
	}
	body := bytes.NewBuffer(make([]byte, 0, len(processText)+int(m.ownSize.Load())+512))
	if err := encodeFamilies(body, format, own); err != nil {
		return nil, err
	}
	m.ownSize.Store(int64(body.Len()))
	body.Write(processText)
	return body.Bytes(), nil
}
