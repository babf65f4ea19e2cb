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
	if d := in.Decide(Request{Token: "steady"}); d.Fault != nil {
		t.Fatal("the first request of a token was refused")
	}
	tokens := make([]string, 100_000)
	for i := range tokens {
		tokens[i] = fmt.Sprint("made-up-", i)
	}
	start := time.Now()
	for _, token := range tokens {
		in.Decide(Request{Token: token})
	}
	madeUp := time.Since(start)
	if n := len(in.callers); n > in.maxCallers {
		t.Errorf("%d records for 100,000 made-up tokens, want at most %d", n, in.maxCallers)
	}
	// The cost is relative to the same number of decisions for one token,
	// timed beside it: a sweep per request over the 1,000 records would make
	// made-up tokens some 50 times dearer; a busy machine slows both alike.
	start = time.Now()
	for range tokens {
		in.Decide(Request{Token: "steady-2"})
	}
	steady := time.Since(start)
	if madeUp > 20*steady {
		t.Errorf("100,000 made-up tokens took %v, the same number of one token's %v: the bound must not cost a sweep per request", madeUp, steady)
	}
	if d := in.Decide(Request{Token: "steady"}); d.Fault == nil || d.Fault.Status != 429 {
		t.Errorf("a tracked token past its limit: %+v, want 429", d.Fault)
	}
}
