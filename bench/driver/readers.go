package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// reader is a request whose cost must follow the request, not the state.
type reader struct {
	name, path string
}

// runReaders is `make bench-readers`: the mock in memory, filled with
// cfg.groups groups of one connector each (an add to an application each),
// then, for each reader, its latency against a GET of one connector, and
// the adds of cfg.conns clients beside four clients repeating that reader,
// as a ratio of the adds alone (measured before and after, averaged), in
// rounds. The adders and the readers are goroutines of this process, as the
// tests of a suite beside a mock are: the readers get the share of the
// client's cores that four clients of 36 get, and what the server spends on
// them, or holds the adds back for, shows in the ratio.
func runReaders(ctx context.Context, cfg config) error {
	logs, err := os.CreateTemp("", "connector-mock-bench-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(logs.Name())
	defer logs.Close()
	addrs, stopServers, err := startServers(ctx, logs, []string{cfg.mockBin})
	defer stopServers()
	if err != nil {
		return err
	}
	base := "http://" + addrs[0]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	start := time.Now()
	if err := fill(ctx, client, base, cfg.groups); err != nil {
		return err
	}
	id, err := firstConnector(ctx, client, base)
	if err != nil {
		return err
	}
	fmt.Printf("filled: %d groups of one connector each in %v\n", cfg.groups, time.Since(start).Round(time.Second))
	connector := "/onPremisesPublishingProfiles/applicationProxy/connectors/" + id
	readers := []reader{
		{"GET one connector", connector},
		{"memberOf", connector + "/memberOf"},
		{"/metrics", "/metrics"},
		{"/_admin/applications", "/_admin/applications"},
	}

	fmt.Printf("\nlatency, one client, median of 2,000 of each, the reads taken in turn, after 200 unmeasured:\n")
	latencies, err := medianLatencies(ctx, client, base, readers)
	if err != nil {
		return err
	}
	for i, r := range readers {
		fmt.Printf("  %-22s %9v  %.2fx the GET\n", r.name, latencies[i].Round(time.Microsecond), float64(latencies[i])/float64(latencies[0]))
	}

	fmt.Printf("\nadds (%d clients, %v a run) beside 4 clients repeating each reader, against adds alone before and after:\n",
		cfg.conns, cfg.duration)
	addURL := base + "/applications/" + app + "/connectorGroup/members/$ref"
	ratios := map[string][]float64{}
	for round := range cfg.rounds {
		for _, r := range readers {
			before, _, err := addsBeside(ctx, client, cfg, addURL, "")
			if err != nil {
				return err
			}
			beside, reads, err := addsBeside(ctx, client, cfg, addURL, base+r.path)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			after, _, err := addsBeside(ctx, client, cfg, addURL, "")
			if err != nil {
				return err
			}
			alone := (before + after) / 2
			ratio := beside / alone
			ratios[r.name] = append(ratios[r.name], ratio)
			fmt.Printf("round %d  %-22s %7.0f adds/s: %.2fx of alone %7.0f/s (%.0f, %.0f); %.0f reads/s\n",
				round+1, r.name, beside, ratio, alone, before, after, reads)
		}
	}
	fmt.Printf("\nmedian over rounds of (adds beside the readers ÷ adds alone):\n")
	for _, r := range readers {
		rs := ratios[r.name]
		slices.Sort(rs)
		fmt.Printf("  %-22s %.2fx\n", r.name, rs[len(rs)/2])
	}
	return nil
}

// fill adds one connector to each of n applications, 32 at a time: n
// groups, as many connectors and members.
func fill(ctx context.Context, client *http.Client, base string, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				app := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "bench-readers-%d", i))
				url := base + "/applications/" + app.String() + "/connectorGroup/members/$ref"
				if err := expect(ctx, client, http.MethodPost, url, validBody, http.StatusNoContent, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// firstConnector is the id of the first connector the mock lists.
func firstConnector(ctx context.Context, client *http.Client, base string) (string, error) {
	var page struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	var body bytes.Buffer
	if err := expect(ctx, client, http.MethodGet, base+"/onPremisesPublishingProfiles/applicationProxy/connectors?$top=1", "", http.StatusOK, &body); err != nil {
		return "", err
	}
	if err := json.Unmarshal(body.Bytes(), &page); err != nil || len(page.Value) == 0 {
		return "", fmt.Errorf("no connector in the first page (%v): %s", err, body.Bytes())
	}
	return page.Value[0].ID, nil
}

// medianLatencies is the median time of 2,000 sequential GETs of each
// reader's path, after 200 that warm the connection and the caches. The
// readers take turns, a request each, so that a busier moment of a shared
// machine falls on all of them alike.
func medianLatencies(ctx context.Context, client *http.Client, base string, readers []reader) ([]time.Duration, error) {
	times := make([][]time.Duration, len(readers))
	for i := range 2200 {
		for k, r := range readers {
			t := time.Now()
			if err := expect(ctx, client, http.MethodGet, base+r.path, "", http.StatusOK, nil); err != nil {
				return nil, err
			}
			if i >= 200 {
				times[k] = append(times[k], time.Since(t))
			}
		}
	}
	medians := make([]time.Duration, len(readers))
	for k, ts := range times {
		slices.Sort(ts)
		medians[k] = ts[len(ts)/2]
	}
	return medians, nil
}

// addsBeside has cfg.conns clients add members for cfg.duration while,
// unless url is "", four clients GET url again and again, and returns the
// adds and the reads a second.
func addsBeside(ctx context.Context, client *http.Client, cfg config, addURL, url string) (adds, reads float64, err error) {
	runCtx, stop := context.WithTimeout(ctx, cfg.duration)
	defer stop()
	var added, read atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.conns+4)
	loop := func(n *atomic.Int64, method, url, body string, want int) {
		for runCtx.Err() == nil {
			if err := expect(runCtx, client, method, url, body, want, nil); err != nil {
				if runCtx.Err() == nil {
					errs <- err
				}
				return
			}
			n.Add(1)
		}
	}
	if url != "" {
		for range 4 {
			wg.Go(func() { loop(&read, http.MethodGet, url, "", http.StatusOK) })
		}
	}
	for range cfg.conns {
		wg.Go(func() { loop(&added, http.MethodPost, addURL, validBody, http.StatusNoContent) })
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	secs := cfg.duration.Seconds()
	return float64(added.Load()) / secs, float64(read.Load()) / secs, ctx.Err()
}

// expect sends a request and requires the status want, copying the body
// into into when it is not nil and discarding it otherwise.
func expect(ctx context.Context, client *http.Client, method, url, body string, want int, into *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	if body != "" {
		req.Body = io.NopCloser(bytes.NewReader([]byte(body)))
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer bench")
	rsp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer rsp.Body.Close()
	dst := io.Discard
	if into != nil {
		dst = into
	}
	if _, err := io.Copy(dst, rsp.Body); err != nil {
		return err
	}
	if rsp.StatusCode != want {
		return fmt.Errorf("%s %s: %s, want %d", method, url, rsp.Status, want)
	}
	return nil
}
