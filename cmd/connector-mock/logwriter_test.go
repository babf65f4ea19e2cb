package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogWriterKeepsEveryLine: lines written concurrently all come out, whole
// and in each writer's order, by Close at the latest.
func TestLogWriterKeepsEveryLine(t *testing.T) {
	out := &lockedBuffer{}
	l := newLogWriter(out, 5*time.Millisecond)
	const writers, lines = 8, 5000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(l, "writer=%d line=%d %s\n", w, i, strings.Repeat("x", i%200))
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines out, want %d", len(got), writers*lines)
	}
	for _, line := range got {
		var w, i int
		var pad string
		if n, err := fmt.Sscanf(line, "writer=%d line=%d %s", &w, &i, &pad); n < 2 || (err != nil && i%200 != 0) {
			t.Fatalf("a mangled line: %q", line)
		}
		if i != next[w] || len(pad) != i%200 {
			t.Fatalf("writer %d: line %d came when %d was due (or was cut): %q", w, i, next[w], line)
		}
		next[w]++
	}
}

// TestLogWriterFlushesOnItsOwn: a line shows up within the interval, without Close.
func TestLogWriterFlushesOnItsOwn(t *testing.T) {
	out := &lockedBuffer{}
	l := newLogWriter(out, 10*time.Millisecond)
	defer l.Close()
	fmt.Fprintln(l, "hello")
	deadline := time.Now().Add(2 * time.Second)
	for {
		s := out.String()
		if s == "hello\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2s the output is %q", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
