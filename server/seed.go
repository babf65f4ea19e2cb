package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/store"
)

// seedFile is what --seed-file holds, in JSON or YAML:
//
//	{"applications": [{"id": GUID, "members": [connector, …]}]}
type seedFile struct {
	Applications []struct {
		ID      string `yaml:"id"`
		Members []any  `yaml:"members"`
	} `yaml:"applications"`
}

// SeedResult says what Seed did.
type SeedResult struct {
	Added, AlreadyThere int
}

// Seed adds the members of the seed file at path to store, each checked as
// the API checks a POST; the first entry that breaks a rule stops it, named
// with the rule. A member without an id gets one derived from its
// application and position, so seeding the same file into a state file that
// has it already adds nothing twice.
func Seed(ctx context.Context, members store.Store, path string) (SeedResult, error) {
	var result SeedResult
	data, err := os.ReadFile(path)
	if err != nil {
		return result, fmt.Errorf("seed file %s: %w", path, err)
	}
	var file seedFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return result, fmt.Errorf("seed file %s: not the JSON or YAML of {\"applications\": [{\"id\": GUID, \"members\": [connector, …]}]}: %w", path, err)
	}
	var add *reqcheck.Operation
	for _, op := range validation.Operations() {
		if op.ID == "addConnectorGroupMember" {
			add = &op
		}
	}
	if add == nil {
		return result, errors.New("the spec has no addConnectorGroupMember operation")
	}
	for i, application := range file.Applications {
		app, ok := reqcheck.ParseGUID(application.ID)
		if !ok {
			return result, fmt.Errorf("seed file %s: applications[%d]: id %s is not a GUID", path, i, reqcheck.Quote(application.ID))
		}
		for j, raw := range application.Members {
			where := fmt.Sprintf("seed file %s: applications[%d] (%s) members[%d]", path, i, app, j)
			body, err := json.Marshal(raw)
			if err != nil {
				return result, fmt.Errorf("%s: %w", where, err)
			}
			var vs reqcheck.Violations
			in := reqcheck.Input{Path: seedPath(app.String()), Header: map[string][]string{}, Body: body}
			value := add.Check(&in, &vs)
			if vs.Len() > 0 {
				var rules []string
				for _, v := range vs.List() {
					rules = append(rules, strings.TrimPrefix(v.Target+": ", ": ")+v.Message)
				}
				return result, fmt.Errorf("%s: %s", where, strings.Join(rules, "; "))
			}
			c := value.(*generated.AddConnectorGroupMemberJSONRequestBody)
			m := store.Member{ExternalIP: c.ExternalIP, MachineName: c.MachineName, Status: c.Status}
			if c.ID != nil {
				m.ID = *c.ID
			} else {
				m.ID = uuid.NewSHA1(app, fmt.Appendf(nil, "seed member %d", j))
			}
			switch err := members.Add(ctx, app, m); {
			case errors.Is(err, store.ErrDuplicateMember):
				result.AlreadyThere++
			case err != nil:
				return result, fmt.Errorf("%s: %w", where, err)
			default:
				result.Added++
			}
		}
	}
	return result, nil
}

// seedPath gives a seed entry's application as the path parameter the add
// operation checks.
type seedPath string

// PathParam implements reqcheck.PathParams.
func (p seedPath) PathParam(string) string { return string(p) }
