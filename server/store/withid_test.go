package store

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
)

// TestConnectorRecordsCarryTheirID: memory keeps a connector's document
// without its id; the state file's record has it, first, and reading the
// record back gives memory's document again. A record with its id elsewhere
// (an earlier build's) is kept whole, and a document with an id of its own
// at the top gets no second one; an id inside a nested object is not it.
func TestConnectorRecordsCarryTheirID(t *testing.T) {
	id := uuid.MustParse("72bb7735-7735-42bb-b577-bb723577bb72")
	for _, tc := range []struct{ name, mem, record string }{
		{"plain", `{"externalIp":"192.0.2.1","status":"active"}`, `{"id":"72bb7735-7735-42bb-b577-bb723577bb72","externalIp":"192.0.2.1","status":"active"}`},
		{"empty", `{}`, `{"id":"72bb7735-7735-42bb-b577-bb723577bb72"}`},
		{"nested id", `{"config":{"id":"x"},"status":"active"}`, `{"id":"72bb7735-7735-42bb-b577-bb723577bb72","config":{"id":"x"},"status":"active"}`},
		{"an earlier build's", `{"externalIp":"192.0.2.1","id":"72bb7735-7735-42bb-b577-bb723577bb72","status":"active"}`, `{"externalIp":"192.0.2.1","id":"72bb7735-7735-42bb-b577-bb723577bb72","status":"active"}`},
	} {
		record := withID(id, []byte(tc.mem))
		if string(record) != tc.record || !json.Valid(record) {
			t.Errorf("%s: record %s, want %s", tc.name, record, tc.record)
		}
		if back := withoutID(nil, id, record); string(back) != tc.mem {
			t.Errorf("%s: read back as %s, want %s", tc.name, back, tc.mem)
		}
	}
	// Another connector's id first is not this one's: kept whole.
	other := `{"id":"11111111-2222-4333-8444-555555555555","status":"active"}`
	if back := withoutID(nil, id, []byte(other)); string(back) != other {
		t.Errorf("another id: %s", back)
	}
}
