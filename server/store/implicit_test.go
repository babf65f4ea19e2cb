package store

import (
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// TestImplicitDocIsRecognised: the registry keeps an implicit group's
// document as nil only when it is exactly the one implicitGroupDoc makes
// for that id; any other document is kept as it is.
func TestImplicitDocIsRecognised(t *testing.T) {
	id, other := uuid.New(), uuid.New()
	eur := generated.ConnectorGroupRegion("eur")
	for _, tc := range []struct {
		name string
		doc  []byte
		want bool
	}{
		{"its own", implicitGroupDoc(id), true},
		{"another id's", implicitGroupDoc(other), false},
		{"named by its id, with a region", groupDoc(id, generated.ConnectorGroupCreate{Name: generated.ConnectorGroupName(id.String()), Region: &eur}, false), false},
		{"renamed", groupDoc(id, generated.ConnectorGroupCreate{Name: "eu"}, false), false},
		{"default", groupDoc(id, generated.ConnectorGroupCreate{Name: generated.ConnectorGroupName(id.String())}, true), false},
		{"cut", implicitGroupDoc(id)[:40], false},
		{"extended", append(implicitGroupDoc(id), ' '), false},
	} {
		if got := isImplicitDoc(id, tc.doc); got != tc.want {
			t.Errorf("%s: %t, want %t (%s)", tc.name, got, tc.want, tc.doc)
		}
	}
	r := newGroupRegistry(1)
	r.put(id, 2, implicitGroupDoc(id))
	if doc, ok := r.doc(id); !ok || string(doc) != string(implicitGroupDoc(id)) || hasKey(r.docs, id) || !r.has(id) {
		t.Errorf("an implicit group reads back %s, %t; kept %q", doc, ok, r.docs[id])
	}
	if _, ok := r.doc(other); ok || r.has(other) {
		t.Error("a group never made exists")
	}
}
