package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// variant is one way to start the mock, for comparing two of them.
type variant struct {
	name string
	args []string
}

// runDurable is `make bench-durable`: the mock in memory and the mock with
// --state side by side, 32 clients adding members to each in interleaved
// rounds, and the durable throughput as a ratio of the in-memory one. Every
// durable add is on disk (fsynced) before it is answered; concurrent adds
// share their fsyncs. Measured with real HTTP clients: in process, without
// the network, the in-memory path is so cheap that the ratio says more about
// the disk than about the server.
func runDurable(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "connector-mock-bench-state-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return runPair(ctx, cfg, variant{"memory", nil}, variant{"durable", []string{"--state", filepath.Join(dir, "state.db")}})
}

// runJournal is `make bench-journal`: the mock with its default journal
// beside the mock with --journal-size 0, as a ratio: what the journal costs.
func runJournal(ctx context.Context, cfg config) error {
	return runPair(ctx, cfg, variant{"no journal", []string{"--journal-size", "0"}}, variant{"journal", nil})
}

// runPair starts the mock as base and as other side by side, has the load
// generator add members to each in interleaved rounds, and prints other's
// throughput as a ratio of base's.
func runPair(ctx context.Context, cfg config, base, other variant) error {
	gen, err := newGenerator(cfg.heyBin, cfg.conns, cfg.duration)
	if err != nil {
		return err
	}
	logs, err := os.CreateTemp("", "connector-mock-bench-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(logs.Name())
	defer logs.Close()
	addrs, stopServers, err := startServers(ctx, logs,
		append([]string{cfg.mockBin}, base.args...), append([]string{cfg.mockBin}, other.args...))
	defer stopServers()
	if err != nil {
		return err
	}
	baseAddr, otherAddr := addrs[0], addrs[1]
	sc := scenarios[0] // the valid add: stored
	path := "/applications/" + app + "/connectorGroup/members/$ref"
	fmt.Printf("load: %s, %d connections, %v a run, %d interleaved rounds: %s, %s and %s\n\n",
		gen.name(), cfg.conns, cfg.duration, cfg.rounds, sc.name, base.name, other.name)
	var ratios []float64
	for r := range cfg.rounds {
		order := []string{baseAddr, otherAddr}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		res := map[string]result{}
		for _, addr := range order {
			out, err := gen.run(ctx, "http://"+addr+path, sc.body, sc.status)
			if err != nil {
				return fmt.Errorf("round %d: %w", r+1, err)
			}
			res[addr] = out
		}
		b, o := res[baseAddr], res[otherAddr]
		ratios = append(ratios, o.rps/b.rps)
		fmt.Printf("round %d  %s %8.0f req/s (p99 %9s)   %s %8.0f req/s (p99 %9s)   ratio %.2f\n",
			r+1, base.name, b.rps, b.p99.Round(time.Microsecond), other.name, o.rps, o.p99.Round(time.Microsecond), o.rps/b.rps)
	}
	slices.Sort(ratios)
	fmt.Printf("\n%s ÷ %s throughput, median over rounds: %.2fx\n", other.name, base.name, ratios[len(ratios)/2])
	return nil
}
