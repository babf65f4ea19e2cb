package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
)

// TestGroupsWorkflow: the Application Proxy script of the README, through
// the CLI: create a group, move a connector in, assign an application,
// list with the query flags, the refused delete, the delete.
func TestGroupsWorkflow(t *testing.T) {
	url := checkedServer(t, server.Config{Token: "tok"})
	c := cli{t: t, env: map[string]string{"CONNECTORCTL_SERVER": url, "CONNECTORCTL_TOKEN": "tok"}}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := c.run(args...)
		if code != 0 {
			t.Fatalf("connectorctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	group := strings.TrimSpace(must("-q", "groups", "create", "--name", "eu-connectors", "--region", "eur"))
	if _, err := uuid.Parse(group); err != nil {
		t.Fatalf("create -q printed %q", group)
	}
	app, connector := uuid.NewString(), uuid.NewString()
	must("add", "--app", app, "--id", connector, "--machine-name", "eu-01", "--external-ip", "192.0.2.7", "--status", "active")
	if out := must("groups", "move", "--group", group, "--connector", connector); out != connector+": moved to "+group+"\n" {
		t.Errorf("move printed %q", out)
	}
	must("groups", "assign", "--group", group, "--app", app)
	var got struct{ ID, Name string }
	if err := json.Unmarshal([]byte(must("-o", "json", "groups", "get", "--app", app)), &got); err != nil || got.ID != group || got.Name != "eu-connectors" {
		t.Errorf("the application's group: %+v (%v)", got, err)
	}
	must("groups", "update", "--id", group, "--name", "eu-2")

	// The query flags: a table of the group kept, the count on stderr.
	code, out, errOut := c.run("groups", "list", "--filter", "isDefault eq false and startswith(name,'eu')", "--orderby", "name desc", "--count")
	if code != 0 || !strings.Contains(out, "eu-2") || strings.Contains(out, "Default") || errOut != "count: 1\n" {
		t.Errorf("groups list --filter --count: %d\n%s%s", code, out, errOut)
	}
	// -o json with --select prints only what was selected (and the id).
	out = must("-o", "json", "groups", "members", "--id", group, "--select", "machineName")
	var members []map[string]any
	if err := json.Unmarshal([]byte(out), &members); err != nil || len(members) != 1 || len(members[0]) != 2 || members[0]["machineName"] != "eu-01" {
		t.Errorf("members --select: %s (%v)", out, err)
	}
	code, _, errOut = c.run("list", "--app", app, "--filter", "status eq 'busy'")
	if code != 1 || !strings.Contains(errOut, "'busy' is not a value of status; its values are active, inactive.") || !strings.Contains(errOut, "$filter:") {
		t.Errorf("a bad --filter: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := c.run("groups", "create", "--name", "x", "--region", "mars"); code != 2 || !strings.Contains(errOut, `--region "mars" is not one of nam, eur`) {
		t.Errorf("a bad --region: exit %d\n%s", code, errOut)
	}

	// Not deleted while it has members; moved back and unassigned, it is.
	code, _, errOut = c.run("groups", "delete", "--id", group)
	if code != 1 || !strings.Contains(errOut, "All connectors and applications must be removed from the connector group before a connector group can be deleted.") {
		t.Errorf("delete with members: exit %d\n%s", code, errOut)
	}
	const defaultGroup = "d3f0a17e-0000-4000-8000-00000000d3f0"
	must("groups", "move", "--group", defaultGroup, "--connector", connector)
	must("groups", "assign", "--group", defaultGroup, "--app", app)
	if out := must("groups", "delete", "--id", group); out != group+": deleted\n" {
		t.Errorf("delete printed %q", out)
	}
	if out := must("groups", "delete", "--id", group, "--ignore-not-found"); !strings.Contains(out, "nothing to delete") {
		t.Errorf("delete again printed %q", out)
	}
}
