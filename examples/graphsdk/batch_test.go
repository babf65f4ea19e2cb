package graphsdk

import (
	"context"
	"testing"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/connector-group/members-api/server/mocktest"
)

// TestABatchThroughTheSDK: msgraph-sdk-go-core's batch helper (BatchRequest,
// as the Graph SDKs' BatchRequestContent) sends two adds, a read that depends
// on the first, and a list, in one POST /beta/$batch; each answer is read back
// with GetBatchResponseById, and the mock journals each request on its own.
func TestABatchThroughTheSDK(t *testing.T) {
	m := mocktest.Start(t, mocktest.WithToken(token))
	ctx := context.Background()
	a := adapter(t, graphClient(), m.URL+"/beta")
	// GetBatchResponseById parses with the process's default registry, which
	// the Graph SDK's client fills when it is made: this does the same.
	abstractions.RegisterDefaultDeserializer(func() serialization.ParseNodeFactory { return jsonserialization.NewJsonParseNodeFactory() })
	app := uuid.New()
	batch := msgraphgocore.NewBatchRequest(a)
	var adds []msgraphgocore.BatchItem
	ids := []string{uuid.NewString(), uuid.NewString()}
	for i, id := range ids {
		add := request(abstractions.POST, membersRef, app, "")
		if err := add.SetContentFromParsable(ctx, a, "application/json",
			&Connector{ID: &ids[i], ExternalIP: str("192.0.2.20"), MachineName: str("batched-" + id[:4]), Status: str("active")}); err != nil {
			t.Fatal(err)
		}
		item, err := batch.AddBatchRequestStep(*add)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, item)
	}
	read, err := batch.AddBatchRequestStep(*request(abstractions.GET, member, app, ids[0]))
	if err != nil {
		t.Fatal(err)
	}
	read.SetDependsOn([]string{*adds[0].GetId()})
	list, err := batch.AddBatchRequestStep(*request(abstractions.GET, members, app, ""))
	if err != nil {
		t.Fatal(err)
	}
	list.SetDependsOn([]string{*adds[0].GetId(), *adds[1].GetId()})
	resp, err := batch.Send(ctx, a)
	if err != nil {
		t.Fatalf("the batch: %v", err)
	}
	if failed := resp.GetFailedResponses(); len(failed) > 0 {
		t.Fatalf("failed in the batch: %v", failed)
	}
	for _, item := range adds {
		if got := resp.GetResponseById(*item.GetId()); got == nil || *got.GetStatus() != 204 {
			t.Errorf("add %s: %+v", *item.GetId(), got)
		}
	}
	got, err := msgraphgocore.GetBatchResponseById[*Connector](resp, *read.GetId(), NewConnector)
	if err != nil || *got.ID != ids[0] {
		t.Fatalf("the read in the batch: %+v, %v", got, err)
	}
	page, err := msgraphgocore.GetBatchResponseById[*ConnectorCollection](resp, *list.GetId(), NewConnectorCollection)
	if err != nil || len(page.GetValue()) != 2 {
		t.Fatalf("the list in the batch: %+v, %v", page, err)
	}
	t.Logf("batch: POST /beta/$batch with 2 adds (204, 204), a read after the first (%s), a list after both (%d members)",
		*got.MachineName, len(page.GetValue()))
	entries := m.Requests()
	tagged := 0
	for _, e := range entries {
		if e.Headers["Batch-Request-Id"] != "" {
			tagged++
		}
	}
	if tagged != 4 {
		t.Errorf("%d journal entries of the batch's requests, want 4", tagged)
	}
}
