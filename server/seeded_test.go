package server_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
)

// TestSeededFaultsIgnoreTiming: two mocks with --seed 7 --fault-rate 0.5
// answer the same sequence of adds from one caller with the same statuses,
// once as fast as they go and once 1.5 s apart, longer than any Retry-After
// a drawn 429 carries (1 s): a drawn fault depends on the draw alone, never
// on when the request came. The 1.5 s pass on synctest's clock.
func TestSeededFaultsIgnoreTiming(t *testing.T) {
	run := func(gap time.Duration) (statuses []int) {
		synctest.Test(t, func(t *testing.T) {
			s, err := server.New(server.Config{Seed: 7, Faults: faults.Settings{FaultRate: 0.5}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				if i > 0 {
					time.Sleep(gap)
				}
				body := `{"id":"` + uuid.NewString() + `","externalIp":"192.0.2.1","machineName":"m","status":"active"}`
				req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members/$ref", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer one-caller")
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				statuses = append(statuses, rec.Code)
			}
		})
		return statuses
	}
	fast, slow := run(0), run(1500*time.Millisecond)
	t.Logf("--seed 7 --fault-rate 0.5, as fast as they go: %v", fast)
	t.Logf("--seed 7 --fault-rate 0.5, 1.5 s apart:        %v", slow)
	if !slices.Equal(fast, slow) {
		t.Errorf("--seed 7 answered\n%v\nas fast as it could, and\n%v\n1.5 s apart", fast, slow)
	}
	if !slices.Contains(fast, http.StatusNoContent) || slices.Equal(slices.Compact(slices.Clone(fast)), []int{http.StatusNoContent}) {
		t.Errorf("20 adds at a fault rate of 0.5 answered %v", fast)
	}
}
