package faults

import (
	"fmt"
	"testing"
	"time"
)

// TestCallersAreBounded: made-up tokens cannot grow the injector's records
// past maxCallers, and the tokens it does track are still limited.
func TestCallersAreBounded(t *testing.T) {
	in, err := NewInjector(Settings{RateLimit: RateLimit{Requests: 1, Window: time.Hour}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	in.maxCallers = 1000
	now := time.Now()
	in.now = func() time.Time { return now }
	if d := in.Decide("steady", 0); d.Fault != nil {
		t.Fatal("the first request of a token was refused")
	}
	start := time.Now()
	for i := range 100_000 {
		in.Decide(fmt.Sprint("made-up-", i), 0)
	}
	if n := len(in.callers); n > in.maxCallers {
		t.Errorf("%d records for 100,000 made-up tokens, want at most %d", n, in.maxCallers)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("100,000 made-up tokens took %v: the bound must not cost a sweep per request", took)
	}
	if d := in.Decide("steady", 0); d.Fault == nil || d.Fault.Status != 429 {
		t.Errorf("a tracked token past its limit: %+v, want 429", d.Fault)
	}
}
