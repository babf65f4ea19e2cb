package server

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/echoapi"
)

// recorder keeps what the proxied answers showed of the service's state
// (--record): connectors, connector groups, which group holds which
// connector, which application is assigned to which group. It keeps
// entities as the generated models read them, so a property the spec does
// not know (and the seed file would refuse) is not kept, and nothing of a
// request's header fields (its token) is kept at all.
type recorder struct {
	mu         sync.Mutex
	connectors map[uuid.UUID]generated.Connector
	groups     map[uuid.UUID]generated.ConnectorGroup
	groupOf    map[uuid.UUID]uuid.UUID // connector -> group
	appGroup   map[uuid.UUID]uuid.UUID // application -> group
	appMembers map[uuid.UUID]uuid.UUID // connector -> application, where the application's group is not known
	readOnly   []string                // the group properties a create refuses
}

func newRecorder() *recorder {
	r := &recorder{connectors: map[uuid.UUID]generated.Connector{}, groups: map[uuid.UUID]generated.ConnectorGroup{},
		groupOf: map[uuid.UUID]uuid.UUID{}, appGroup: map[uuid.UUID]uuid.UUID{}, appMembers: map[uuid.UUID]uuid.UUID{}}
	if spec, err := echoapi.GetSpec(); err == nil {
		for schema, s := range spec.Components.Schemas {
			// What a create refuses (the seed file checks a group so), the
			// name spelt as the embedded spec may (with a capital: oapi-codegen's).
			if !strings.EqualFold(schema, "connectorGroupCreate") || s.Value == nil {
				continue
			}
			for name, p := range s.Value.Properties {
				if p.Value != nil && p.Value.ReadOnly {
					r.readOnly = append(r.readOnly, name)
				}
			}
		}
	}
	return r
}

// observe records what a 2xx answer to the request of rc shows.
func (r *recorder) observe(rc *requestContext, status int, body []byte) {
	if status < 200 || status > 299 || rc.Request().URL.Query().Has("$select") {
		return // a $select answer lacks properties a seed file needs
	}
	param := func(name string) (uuid.UUID, bool) {
		id, err := uuid.Parse(rc.Param(name))
		return id, err == nil
	}
	app, hasApp := param("applicationsId")
	group, hasGroup := param("connectorGroupId")
	connector, hasConnector := param("connectorId")
	r.mu.Lock()
	defer r.mu.Unlock()
	member := func(c generated.Connector) {
		if c.ID == nil {
			return
		}
		r.connectors[*c.ID] = c
		switch {
		case hasGroup:
			r.join(*c.ID, group)
		case hasApp:
			r.joinApplication(*c.ID, app)
		}
	}
	switch op := strings.ToLower(rc.call.operation); op {
	case "listconnectors":
		var page generated.ConnectorCollection
		if json.Unmarshal(body, &page) == nil {
			for _, c := range page.Value {
				if c.ID != nil {
					r.connectors[*c.ID] = c
				}
			}
		}
	case "getconnector":
		var c generated.Connector
		if json.Unmarshal(body, &c) == nil && c.ID != nil {
			r.connectors[*c.ID] = c
		}
	case "listconnectorgroupmembers", "listgroupmembers":
		var page generated.ConnectorCollection
		if json.Unmarshal(body, &page) == nil {
			for _, c := range page.Value {
				member(c)
			}
		}
	case "getconnectorgroupmember", "getgroupmember":
		var c generated.Connector
		if json.Unmarshal(body, &c) == nil {
			member(c)
		}
	case "addconnectorgroupmember", "addgroupmember":
		var c generated.Connector
		if status == http.StatusCreated && json.Unmarshal(body, &c) == nil && c.ID != nil {
			member(c)
		} else if id, ok := referenced(rc.call.raw); ok {
			member(generated.Connector{ID: &id})
		}
	case "removeconnectorgroupmember", "removegroupmember":
		if hasConnector {
			delete(r.groupOf, connector)
			delete(r.appMembers, connector)
		}
	case "listconnectorgroups", "listconnectormemberof":
		var page generated.ConnectorGroupCollection
		if json.Unmarshal(body, &page) == nil {
			for _, g := range page.Value {
				r.groups[g.ID] = g
				if op == "listconnectormemberof" && hasConnector {
					r.join(connector, g.ID)
				}
			}
		}
	case "getconnectorgroup", "createconnectorgroup", "getapplicationconnectorgroup":
		var g generated.ConnectorGroup
		if json.Unmarshal(body, &g) == nil && g.ID != uuid.Nil {
			r.groups[g.ID] = g
			if hasApp {
				r.assign(app, g.ID)
			}
		}
	case "assignapplicationconnectorgroup":
		if id, ok := referenced(rc.call.raw); ok && hasApp {
			r.assign(app, id)
		}
	case "deleteconnectorgroup":
		if hasGroup {
			delete(r.groups, group)
		}
	}
}

// join records that group holds connector (a connector is in one group).
func (r *recorder) join(connector, group uuid.UUID) {
	r.groupOf[connector] = group
	delete(r.appMembers, connector)
}

// joinApplication records that the group of app holds connector.
func (r *recorder) joinApplication(connector, app uuid.UUID) {
	if group, ok := r.appGroup[app]; ok {
		r.join(connector, group)
		return
	}
	delete(r.groupOf, connector)
	r.appMembers[connector] = app
}

// assign records that app is assigned to group; the connectors recorded as
// its members are the group's.
func (r *recorder) assign(app, group uuid.UUID) {
	r.appGroup[app] = group
	for connector, a := range r.appMembers {
		if a == app {
			r.join(connector, group)
		}
	}
}

// referenced is the id an add or assignment by reference names: the last
// segment of its @odata.id.
func referenced(body []byte) (uuid.UUID, bool) {
	var ref struct {
		ID string `json:"@odata.id"`
	}
	if json.Unmarshal(body, &ref) != nil {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(ref.ID[strings.LastIndexByte(ref.ID, '/')+1:])
	return id, err == nil
}

// recordedSeed is a seed file, as --seed-file reads it.
type recordedSeed struct {
	Connectors      []generated.Connector `json:"connectors"`
	ConnectorGroups []map[string]any      `json:"connectorGroups"`
	Applications    []recordedApplication `json:"applications"`
}

type recordedApplication struct {
	ID             uuid.UUID          `json:"id"`
	ConnectorGroup *uuid.UUID         `json:"connectorGroup,omitempty"`
	Members        []recordedMemberOf `json:"members,omitempty"`
}

type recordedMemberOf struct {
	ID string `json:"@odata.id"`
}

// seed is what the recorder holds, as a seed file: every connector (which
// registers it in the default group), every group with references to its
// connectors (which move them there), every application with its group or
// its members. Sorted by id, so that a file repeats.
func (r *recorder) seed(connectorURL string) recordedSeed {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := recordedSeed{Connectors: []generated.Connector{}, ConnectorGroups: []map[string]any{}, Applications: []recordedApplication{}}
	for _, id := range sortedIDs(r.connectors) {
		out.Connectors = append(out.Connectors, r.connectors[id])
	}
	members := map[uuid.UUID][]recordedMemberOf{}
	for _, connector := range sortedIDs(r.groupOf) {
		group := r.groupOf[connector]
		members[group] = append(members[group], recordedMemberOf{connectorURL + connector.String()})
	}
	for _, id := range sortedIDs(r.groups) {
		var props map[string]any
		b, _ := json.Marshal(r.groups[id])
		_ = json.Unmarshal(b, &props)
		for _, name := range r.readOnly {
			delete(props, name)
		}
		props["id"] = id
		if m := members[id]; len(m) > 0 {
			props["members"] = m
		}
		out.ConnectorGroups = append(out.ConnectorGroups, props)
	}
	byApp := map[uuid.UUID][]recordedMemberOf{}
	for _, connector := range sortedIDs(r.appMembers) {
		app := r.appMembers[connector]
		byApp[app] = append(byApp[app], recordedMemberOf{connectorURL + connector.String()})
	}
	apps := maps.Clone(r.appGroup)
	for app := range byApp {
		if _, ok := apps[app]; !ok {
			apps[app] = uuid.Nil
		}
	}
	for _, app := range sortedIDs(apps) {
		a := recordedApplication{ID: app, Members: byApp[app]}
		if g := apps[app]; g != uuid.Nil {
			if _, known := r.groups[g]; known {
				a.ConnectorGroup = &g
			}
		}
		out.Applications = append(out.Applications, a)
	}
	return out
}

func sortedIDs[V any](m map[uuid.UUID]V) []uuid.UUID {
	ids := slices.Collect(maps.Keys(m))
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return ids
}

// WriteRecord writes what the proxied answers showed of the service's
// state to path as a seed file (--record), atomically: a file another mock
// loads with --seed-file. It is an error without --proxy.
func (s *Server) WriteRecord(path string) error {
	if s.proxy == nil {
		return fmt.Errorf("--record needs --proxy: only the service's answers are recorded")
	}
	const connectorURL = "https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/"
	b, err := json.MarshalIndent(s.proxy.record.seed(connectorURL), "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("--record %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("--record %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--record %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
