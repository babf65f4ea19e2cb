package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// runDurable is `make bench-durable`: the mock in memory and the mock with
// --state side by side, 32 clients adding members to each in interleaved
// rounds, and the durable throughput as a ratio of the in-memory one. Every
// durable add is on disk (fsynced) before it is answered; concurrent adds
// share their fsyncs. Measured with real HTTP clients: in process, without
// the network, the in-memory path is so cheap that the ratio says more about
// the disk than about the server.
func runDurable(ctx context.Context, cfg config) error {
	gen, err := newGenerator(cfg.heyBin, cfg.conns, cfg.duration)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "connector-mock-bench-state-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logs, err := os.CreateTemp(dir, "servers-*.log")
	if err != nil {
		return err
	}
	defer logs.Close()
	addrs, stopServers, err := startServers(ctx, logs,
		[]string{cfg.mockBin}, []string{cfg.mockBin, "--state", filepath.Join(dir, "state.db")})
	defer stopServers()
	if err != nil {
		return err
	}
	memAddr, durAddr := addrs[0], addrs[1]
	sc := scenarios[0] // the valid add: stored
	path := "/applications/" + app + "/connectorGroup/members/$ref"
	fmt.Printf("load: %s, %d connections, %v a run, %d interleaved rounds: %s, in memory and with --state\n\n",
		gen.name(), cfg.conns, cfg.duration, cfg.rounds, sc.name)
	var ratios []float64
	for r := range cfg.rounds {
		addrs := []string{memAddr, durAddr}
		if r%2 == 1 {
			slices.Reverse(addrs)
		}
		res := map[string]result{}
		for _, addr := range addrs {
			out, err := gen.run(ctx, "http://"+addr+path, sc.body, sc.status)
			if err != nil {
				return fmt.Errorf("round %d: %w", r+1, err)
			}
			res[addr] = out
		}
		mem, dur := res[memAddr], res[durAddr]
		ratios = append(ratios, dur.rps/mem.rps)
		fmt.Printf("round %d  memory %8.0f req/s (p99 %9s)   durable %8.0f req/s (p99 %9s)   ratio %.2f\n",
			r+1, mem.rps, mem.p99.Round(time.Microsecond), dur.rps, dur.p99.Round(time.Microsecond), dur.rps/mem.rps)
	}
	slices.Sort(ratios)
	fmt.Printf("\ndurable ÷ in-memory throughput, median over rounds: %.2fx\n", ratios[len(ratios)/2])
	return nil
}
