package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/store"
)

// seedFile is what --seed-file holds, in JSON or YAML:
//
//	{"connectors": [connector, …],
//	 "connectorGroups": [{"id": GUID, "name": …, "region": …, "members": [connector or reference, …]}],
//	 "applications": [{"id": GUID, "connectorGroup": GUID, "members": [connector or reference, …]}]}
//
// The connectors are registered in the default group, as installing a
// connector agent does; a member may then be a reference to one, which
// moves it to the group that lists it (a connector is in one group: the
// last that lists it). A group's properties are checked as a create of the
// API checks them; its id, when absent, is derived from its name. An
// application's connectorGroup assigns it to that group (the file's or the
// store's), whose members its own members then join.
type seedFile struct {
	Connectors      []any `yaml:"connectors"`
	ConnectorGroups []struct {
		ID         string         `yaml:"id"`
		Members    []any          `yaml:"members"`
		Properties map[string]any `yaml:",inline"`
	} `yaml:"connectorGroups"`
	Applications []struct {
		ID             string `yaml:"id"`
		ConnectorGroup string `yaml:"connectorGroup"`
		Members        []any  `yaml:"members"`
	} `yaml:"applications"`
}

// SeedResult says what Seed did.
type SeedResult struct {
	Registered          int // connectors registered (or updated) in the default group
	Groups              int // connector groups created
	Assigned            int // applications assigned to a group
	Added, AlreadyThere int // members, and groups the store had already
}

// Seed adds the members of the seed file at path to store, each checked as
// the API checks a POST; the first entry that breaks a rule stops it before
// anything is stored, named with the rule. It stops when ctx ends. A member without an id gets one derived from its
// application and position, so seeding the same file into a state file that
// has it already adds nothing twice.
func Seed(ctx context.Context, members store.Store, path string) (SeedResult, error) {
	var result SeedResult
	data, err := readSeedFile(path)
	if err != nil {
		return result, err
	}
	file, err := parseSeed(data)
	if err != nil {
		return result, fmt.Errorf("seed file %s: %w", path, err)
	}
	var add, create *reqcheck.Operation
	for _, op := range validation.Operations() {
		switch op.ID {
		case "addConnectorGroupMember":
			add = &op
		case "createConnectorGroup":
			create = &op
		}
	}
	if add == nil || create == nil {
		return result, errors.New("the spec has no addConnectorGroupMember or createConnectorGroup operation")
	}
	seen := map[uuid.UUID]int{} // members of each application so far, over every entry naming it
	var adds []store.Op
	var where []string
	for i, raw := range file.connectors {
		at := fmt.Sprintf("seed file %s: connectors[%d]", path, i)
		value, err := checkSeedEntry(add, uuid.Nil, raw)
		if err != nil {
			return result, fmt.Errorf("%s: %w", at, err)
		}
		c, ok := value.(*generated.Connector)
		if !ok {
			return result, fmt.Errorf("%s: a connector, with its properties, not a reference", at)
		}
		m := store.Member{Connector: *c}
		if c.ID != nil {
			m.ID = *c.ID
		} else {
			m.ID = uuid.NewSHA1(uuid.Nil, fmt.Appendf(nil, "seed connector %d", i))
		}
		adds, where = append(adds, store.Op{Kind: store.OpRegister, Member: m}), append(where, at)
	}
	for i, group := range file.groups {
		at := fmt.Sprintf("seed file %s: connectorGroups[%d]", path, i)
		value, err := checkSeedEntry(create, uuid.Nil, group.properties)
		if err != nil {
			return result, fmt.Errorf("%s: %w", at, err)
		}
		doc, ok := value.(*generated.ConnectorGroupCreate)
		if !ok {
			return result, fmt.Errorf("%s: the validator decoded a %T", at, value)
		}
		id := uuid.NewSHA1(uuid.Nil, []byte("seed connector group "+doc.Name))
		if group.id != "" {
			if id, ok = reqcheck.ParseGUID(group.id); !ok {
				return result, fmt.Errorf("%s: id %s is not a GUID", at, reqcheck.Quote(group.id))
			}
		}
		adds, where = append(adds, store.Op{Kind: store.OpCreateGroup, Group: id, GroupDoc: *doc}), append(where, at)
		for j, raw := range group.members {
			at := fmt.Sprintf("%s (%s) members[%d]", at, id, j)
			value, err := checkSeedEntry(add, id, raw)
			if err != nil {
				return result, fmt.Errorf("%s: %w", at, err)
			}
			a, err := seedAdd(id, seen[id], value)
			if err != nil {
				return result, fmt.Errorf("%s: %w", at, err)
			}
			seen[id]++
			a.ViaApplication = false // the group's own members
			adds, where = append(adds, a), append(where, at)
		}
	}
	for i, application := range file.applications {
		app, ok := reqcheck.ParseGUID(application.id)
		if !ok {
			return result, fmt.Errorf("seed file %s: applications[%d]: id %s is not a GUID", path, i, reqcheck.Quote(application.id))
		}
		if application.connectorGroup != "" {
			group, ok := reqcheck.ParseGUID(application.connectorGroup)
			if !ok {
				return result, fmt.Errorf("seed file %s: applications[%d]: connectorGroup %s is not a GUID", path, i, reqcheck.Quote(application.connectorGroup))
			}
			adds = append(adds, store.Op{Kind: store.OpAssign, Group: group, Member: store.Member{ID: app}})
			where = append(where, fmt.Sprintf("seed file %s: applications[%d] (%s) connectorGroup", path, i, app))
		}
		for j, raw := range application.members {
			if err := ctx.Err(); err != nil {
				return result, err
			}
			position := seen[app]
			seen[app]++
			at := fmt.Sprintf("seed file %s: applications[%d] (%s) members[%d]", path, i, app, j)
			value, err := checkSeedEntry(add, app, raw)
			if err != nil {
				return result, fmt.Errorf("%s: %w", at, err)
			}
			a, err := seedAdd(app, position, value)
			if err != nil {
				return result, fmt.Errorf("%s: %w", at, err)
			}
			adds, where = append(adds, a), append(where, at)
		}
	}
	// Every entry checked, the adds go to the store together: a state
	// file commits many to an fsync.
	for i, err := range store.AddAll(ctx, members, adds) {
		switch {
		case err == nil && adds[i].Kind == store.OpRegister:
			result.Registered++
		case err == nil && adds[i].Kind == store.OpCreateGroup:
			result.Groups++
		case err == nil && adds[i].Kind == store.OpAssign:
			result.Assigned++
		case err == nil:
			result.Added++
		case errors.Is(err, store.ErrDuplicateMember), errors.Is(err, store.ErrGroupExists):
			result.AlreadyThere++
		case errors.Is(err, store.ErrConnectorNotFound):
			return result, fmt.Errorf("%s: /@odata.id: names a connector neither the store nor the file before it holds", where[i])
		case errors.Is(err, store.ErrGroupNotFound):
			return result, fmt.Errorf("%s: names a connector group neither the store nor the file holds", where[i])
		default:
			return result, fmt.Errorf("%s: %w", where[i], err)
		}
	}
	return result, nil
}

// checkSeedEntry checks an entry of the seed file, as JSON, as the API checks
// the body of an add to app, and returns what the validator decoded.
func checkSeedEntry(add *reqcheck.Operation, app uuid.UUID, body []byte) (any, error) {
	var vs reqcheck.Violations
	in := reqcheck.Input{Path: seedPath(app.String()), Header: map[string][]string{}, Body: body}
	checked := add.Check(&in, &vs)
	if vs.Len() > 0 {
		// The first few, for a message a terminal shows whole: the entry
		// is named, and the rest are of the same kind more often than not.
		const shown = 5
		var rules []string
		for _, v := range vs.List() {
			if len(rules) == shown {
				break
			}
			rules = append(rules, strings.TrimPrefix(v.Target+": ", ": ")+v.Message)
		}
		if more := vs.Len() - len(rules); more > 0 {
			rules = append(rules, fmt.Sprintf("and %d more", more))
		}
		return nil, errors.New(strings.Join(rules, "; "))
	}
	return checked.Body, nil
}

// maxSeedFile is the largest seed file read: some 100,000 members.
const maxSeedFile = 32 << 20

// readSeedFile reads a regular file of at most maxSeedFile bytes; anything
// else (a FIFO that would block, a device that never ends) is refused at once.
func readSeedFile(path string) ([]byte, error) {
	// Looked at before it is opened: opening a FIFO blocks until a writer comes.
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("seed file %s: is not a regular file (%s)", path, info.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	defer f.Close()
	data, err := readAll(io.LimitReader(f, maxSeedFile+1), min(info.Size(), maxSeedFile+1))
	if err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	if len(data) > maxSeedFile {
		return nil, fmt.Errorf("seed file %s: is larger than %d MiB", path, maxSeedFile>>20)
	}
	return data, nil
}

// seedAdd is the add of a member the validator decoded: a connector
// (without an id, one derived from its application and its position among
// that application's members in the file, so seeding the same file twice
// adds nothing twice), or a reference to a known connector.
func seedAdd(app uuid.UUID, position int, value any) (store.Op, error) {
	switch c := value.(type) {
	case *generated.Connector:
		m := store.Member{Connector: *c}
		if c.ID != nil {
			m.ID = *c.ID
		} else {
			m.ID = uuid.NewSHA1(app, fmt.Appendf(nil, "seed member %d", position))
		}
		return store.Op{Kind: store.OpAdd, Group: app, Member: m, ViaApplication: true}, nil
	case *generated.ReferenceCreate:
		id, err := referencedID(c.OdataID)
		if err != nil {
			return store.Op{}, err
		}
		return store.Op{Kind: store.OpAddReference, Group: app, Member: store.Member{ID: id}, ViaApplication: true}, nil
	}
	return store.Op{}, fmt.Errorf("the validator decoded a %T", value)
}

// seedPath gives a seed entry's application as the path parameter the add
// operation checks.
type seedPath string

// PathParam implements reqcheck.PathParams.
func (p seedPath) PathParam(string) string { return string(p) }
