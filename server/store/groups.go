package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
)

// Group is a connector group as the store keeps it: the generated model,
// with every property the spec gives a group, and its id.
type Group struct {
	ID uuid.UUID
	generated.ConnectorGroup
}

// GroupList is one page of the connector groups, in the order they were created.
type GroupList struct {
	Groups []Group
	// Next resumes after the last group of this page, when More is true.
	Next Cursor
	// More tells whether groups follow this page.
	More bool
}

// The errors of the group operations.
var (
	// ErrGroupNotFound: no connector group has the id (and the op may not
	// create it).
	ErrGroupNotFound = errors.New("no such connector group")
	// ErrGroupExists: a group with the id exists already.
	ErrGroupExists = errors.New("the connector group exists")
	// ErrGroupNotEmpty: a group with members cannot be deleted.
	ErrGroupNotEmpty = errors.New("the connector group has members")
	// ErrDefaultGroup: the default group cannot be deleted.
	ErrDefaultGroup = errors.New("the default connector group cannot be deleted")
	// ErrRegionLocked: a group's region changes only while it has no members.
	ErrRegionLocked = errors.New("the region of a connector group with members cannot change")
)

// DefaultGroupID is the id of the default group, which exists from the
// start: the same in every mock and across restarts, so that a test can
// name it.
var DefaultGroupID = uuid.MustParse("d3f0a17e-0000-4000-8000-00000000d3f0")

// defaultGroupName is the default group's name until an update changes it.
const defaultGroupName = "Default"

// groupRegistry is the connector groups as entities: their ids in the order
// they were created (deleted ones leave tombstones a compaction drops) and
// each one's document, the generated model as JSON. A group's members are
// Memory.groups; a group exists whether or not it has any. The document of
// a group an add made on first use (most groups, when each application has
// its own) is not kept but made when read: some 200 bytes a group.
type groupRegistry struct {
	list memoryGroup
	docs map[uuid.UUID][]byte
}

// doc is group id's document, and whether the group exists.
func (r *groupRegistry) doc(id uuid.UUID) ([]byte, bool) {
	if doc, ok := r.docs[id]; ok {
		return doc, true
	}
	if r.has(id) {
		return implicitGroupDoc(id), true
	}
	return nil, false
}

// newGroupRegistry holds the default group only, at position seq.
func newGroupRegistry(seq uint64) groupRegistry {
	r := groupRegistry{list: memoryGroup{index: make(map[uuid.UUID]uint32)}, docs: make(map[uuid.UUID][]byte)}
	r.list.join(DefaultGroupID, seq)
	r.docs[DefaultGroupID] = groupDoc(DefaultGroupID, generated.ConnectorGroupCreate{Name: defaultGroupName}, true)
	return r
}

// groupDoc is the document of group id: the properties a create gives it,
// and those the server sets (its id, its type, whether it is the default).
func groupDoc(id uuid.UUID, g generated.ConnectorGroupCreate, isDefault bool) []byte {
	g.OdataType = nil // the API's to add
	given, err := json.Marshal(g)
	var props map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(given, &props)
	}
	if err != nil {
		panic(fmt.Sprintf("encoding a connector group cannot fail: %v", err)) // strings and enums
	}
	props["id"], _ = json.Marshal(id)
	props["connectorGroupType"], _ = json.Marshal(generated.ConnectorGroupConnectorGroupTypeApplicationProxy)
	props["isDefault"], _ = json.Marshal(isDefault)
	doc, err := json.Marshal(props)
	if err != nil {
		panic(fmt.Sprintf("encoding a connector group cannot fail: %v", err))
	}
	return doc
}

// implicitGroupDoc is the document of a group an add made on first use:
// named by its id.
func implicitGroupDoc(id uuid.UUID) []byte {
	return groupDoc(id, generated.ConnectorGroupCreate{Name: generated.ConnectorGroupName(id.String())}, false)
}

// implicitParts are an implicit group's document around the two places its
// id is written (its id and its name), found once from groupDoc itself, so
// that telling whether a document is an implicit group's costs no encoding.
var implicitParts = sync.OnceValue(func() [][]byte {
	marker := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	return bytes.Split(implicitGroupDoc(marker), []byte(marker.String()))
})

// isImplicitDoc tells whether doc is the document implicitGroupDoc makes for id.
func isImplicitDoc(id uuid.UUID, doc []byte) bool {
	var text [36]byte
	reqcheck.GUIDText(&text, id)
	parts := implicitParts()
	for i, part := range parts {
		if !bytes.HasPrefix(doc, part) {
			return false
		}
		doc = doc[len(part):]
		if i < len(parts)-1 {
			if !bytes.HasPrefix(doc, text[:]) {
				return false
			}
			doc = doc[len(text):]
		}
	}
	return len(doc) == 0
}

// mergeGroup is the document old with the properties patch sets replaced
// (JSON merge patch, RFC 7396, at the top level: a group's properties are
// all scalars), and whether it changes the region.
func mergeGroup(old, patch []byte) ([]byte, bool, error) {
	var props, changes map[string]json.RawMessage
	if err := json.Unmarshal(old, &props); err != nil {
		return nil, false, fmt.Errorf("a stored connector group: %w", err)
	}
	if err := json.Unmarshal(patch, &changes); err != nil {
		return nil, false, fmt.Errorf("an update of a connector group: %w", err)
	}
	const region = "region"
	regionChanged := changes[region] != nil && !bytes.Equal(changes[region], props[region])
	for k, v := range changes {
		props[k] = v
	}
	merged, err := json.Marshal(props)
	return merged, regionChanged, err
}

// has tells whether group id exists.
func (r *groupRegistry) has(id uuid.UUID) bool {
	_, ok := r.list.index[id]
	return ok
}

// seqOf is the position of the existing group id.
func (r *groupRegistry) seqOf(id uuid.UUID) uint64 {
	return r.list.at(int(r.list.index[id])).seq
}

// put creates group id at seq, or replaces the existing one's document
// (which keeps its position); it returns the position.
func (r *groupRegistry) put(id uuid.UUID, seq uint64, doc []byte) uint64 {
	if _, ok := r.list.index[id]; ok {
		seq = r.seqOf(id)
	} else {
		r.list.join(id, seq)
	}
	if isImplicitDoc(id, doc) {
		delete(r.docs, id)
	} else {
		r.docs[id] = doc
	}
	return seq
}

// remove deletes group id.
func (r *groupRegistry) remove(id uuid.UUID) {
	delete(r.docs, id)
	r.list.remove(id) // never empties it: the default group stays
}

// decodeGroup reads a stored group's document.
func decodeGroup(id uuid.UUID, doc []byte) (Group, error) {
	g := Group{ID: id}
	if err := json.Unmarshal(doc, &g.ConnectorGroup); err != nil {
		return Group{}, fmt.Errorf("connector group %s: %w", id, err)
	}
	return g, nil
}

// Group returns the connector group id, or ErrGroupNotFound.
func (s *Memory) Group(ctx context.Context, id uuid.UUID) (Group, error) {
	if err := ctx.Err(); err != nil {
		return Group{}, err
	}
	s.mu.RLock()
	doc, ok := s.groupReg.doc(id)
	s.mu.RUnlock()
	if !ok {
		return Group{}, ErrGroupNotFound
	}
	return decodeGroup(id, doc)
}

// Groups returns up to limit connector groups created after the position
// after, in the order they were created (the default group first).
func (s *Memory) Groups(ctx context.Context, after Cursor, limit int) (GroupList, error) {
	var page GroupList
	if limit <= 0 {
		return page, ctx.Err()
	}
	err := s.ScanGroups(ctx, after, func(at Cursor, g *Group) bool {
		if len(page.Groups) == limit {
			page.More = true
			return false
		}
		page.Groups = append(page.Groups, *g)
		page.Next = at
		return true
	})
	if err != nil {
		return GroupList{}, err
	}
	return page, nil
}

// ScanGroups calls fn with each connector group created after the position
// after, in order (the default group first), and where it is, until fn
// returns false. fn runs under the store's read lock: it must not call the
// store.
func (s *Memory) ScanGroups(ctx context.Context, after Cursor, fn func(Cursor, *Group) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := &s.groupReg.list
	start := max(sort.Search(l.n, func(i int) bool { return l.at(i).seq > uint64(after) }), l.head())
	for i := start; i < l.n; i++ {
		e := l.at(i)
		if e.removed {
			continue
		}
		doc, _ := s.groupReg.doc(e.id)
		g, err := decodeGroup(e.id, doc)
		if err != nil {
			return err
		}
		if !fn(Cursor(e.seq), &g) {
			return nil
		}
	}
	return nil
}

// decideGroupLocked decides an op on a group entity (create, update,
// delete), as decideLocked does the others.
func (s *Memory) decideGroupLocked(op *Op, changes []change) ([]change, error) {
	r := &s.groupReg
	switch op.Kind {
	case OpCreateGroup:
		if r.has(op.Group) {
			return changes, ErrGroupExists
		}
		s.seq++
		return append(changes, s.applyLocked(change{kind: putGroup, seq: s.seq, group: op.Group, doc: op.doc})), nil
	case OpUpdateGroup:
		old, ok := r.doc(op.Group)
		if !ok {
			return changes, ErrGroupNotFound
		}
		merged, regionChanged, err := mergeGroup(old, op.doc)
		if err != nil {
			return changes, err
		}
		if regionChanged && (s.hasMembersLocked(op.Group) || s.hasApplicationsLocked(op.Group)) {
			return changes, ErrRegionLocked
		}
		return append(changes, s.applyLocked(change{kind: putGroup, seq: r.seqOf(op.Group), group: op.Group, doc: merged})), nil
	case OpDeleteGroup:
		switch {
		case !r.has(op.Group):
			return changes, ErrGroupNotFound
		case op.Group == DefaultGroupID:
			return changes, ErrDefaultGroup
		case s.hasMembersLocked(op.Group) || s.hasApplicationsLocked(op.Group):
			return changes, ErrGroupNotEmpty
		}
		return append(changes, s.applyLocked(change{kind: deleteGroup, seq: r.seqOf(op.Group), group: op.Group})), nil
	}
	return changes, fmt.Errorf("an op of unknown kind %d", op.Kind)
}

// eachGroup emits every group as the change that creates it, in order.
func (s *Memory) eachGroup(emit func(change) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := &s.groupReg.list
	for i := range l.n {
		if e := l.at(i); !e.removed {
			doc, _ := s.groupReg.doc(e.id)
			if err := emit(change{kind: putGroup, seq: e.seq, group: e.id, doc: doc}); err != nil {
				return err
			}
		}
	}
	return nil
}

// implicitGroupsLocked creates a group for every group with members that is
// none (a file written before groups were entities), in the order of their
// first members, as an add at the seed page's path would have.
func (s *Memory) implicitGroupsLocked() {
	type first struct {
		seq uint64
		id  uuid.UUID
	}
	var missing []first
	for id, g := range s.groups {
		if !s.groupReg.has(id) && g.n > 0 {
			missing = append(missing, first{g.at(0).seq, id})
		}
	}
	for id, one := range s.single {
		if !s.groupReg.has(id) {
			missing = append(missing, first{one.seq, id})
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].seq < missing[j].seq })
	for _, m := range missing {
		s.seq++
		s.applyLocked(change{kind: putGroup, seq: s.seq, group: m.id, doc: implicitGroupDoc(m.id)})
	}
}

// ImplicitGroup is the group an add at the seed page's path makes for an
// application on first use (named by its id), as it will be once made.
func ImplicitGroup(id uuid.UUID) Group {
	g, err := decodeGroup(id, implicitGroupDoc(id))
	if err != nil {
		panic(fmt.Sprintf("the implicit group's document does not decode: %v", err)) // written above, from the model
	}
	return g
}

// emptyGroupLocked moves every member of group to the default group, in
// order (a reset of that group); the default group stays as it is.
func (s *Memory) emptyGroupLocked(group uuid.UUID, changes []change) []change {
	g := s.listLocked(group)
	if g == nil || group == DefaultGroupID {
		return changes
	}
	type member struct {
		seq uint64
		id  uuid.UUID
	}
	var members []member
	for i := range g.n {
		if e := g.at(i); !e.removed {
			members = append(members, member{e.seq, e.id})
		}
	}
	for _, m := range members {
		changes = append(changes, s.applyLocked(change{kind: leave, seq: m.seq, group: group, id: m.id}))
		s.seq++
		changes = append(changes, s.applyLocked(change{kind: join, seq: s.seq, group: DefaultGroupID, id: m.id}))
	}
	return changes
}

// oneGroupLocked holds the state loaded from a file to the rule that a
// connector is in exactly one group, and indexes each connector's group: a
// connector in several groups (a file written before the rule) stays in the
// one it joined last, and one in none joins the default group. It reports
// whether it changed anything.
func (s *Memory) oneGroupLocked() bool {
	r := &s.connectors
	for _, chunk := range r.groups {
		clear(chunk)
	}
	type member struct{ group, id uuid.UUID }
	var extra []member
	placed := 0
	visit := func(group uuid.UUID, seq uint64, id uuid.UUID) {
		pos, known := r.index[id] // one lookup a member: a million are much of a restart
		if !known {
			return // loadGroupsLocked refused such a member already
		}
		slot := r.groupSlot(int(pos))
		current := *slot
		if current == uuid.Nil {
			*slot = group
			placed++
			return
		}
		if held, _ := s.seqLocked(current, id); seq > held {
			extra = append(extra, member{current, id})
			*slot = group
		} else {
			extra = append(extra, member{group, id})
		}
	}
	for group, g := range s.groups {
		for i := range g.n {
			if e := g.at(i); !e.removed {
				visit(group, e.seq, e.id)
			}
		}
	}
	for group, one := range s.single {
		visit(group, one.seq, one.id)
	}
	for _, m := range extra {
		s.deleteLocked(m.group, m.id)
	}
	changed := len(extra) > 0
	if placed == r.n {
		return changed // every connector is in a group
	}
	for i := range r.n {
		if *r.groupSlot(i) == uuid.Nil {
			s.seq++
			s.applyLocked(change{kind: join, seq: s.seq, group: DefaultGroupID, id: r.at(i).id})
			changed = true
		}
	}
	return changed
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// eachMember emits every member of every group as the change that makes
// it, group by group, in order.
func (s *Memory) eachMember(emit func(change) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for group, g := range s.groups {
		for i := range g.n {
			if e := g.at(i); !e.removed {
				if err := emit(change{kind: join, seq: e.seq, group: group, id: e.id}); err != nil {
					return err
				}
			}
		}
	}
	for group, one := range s.single {
		if err := emit(change{kind: join, seq: one.seq, group: group, id: one.id}); err != nil {
			return err
		}
	}
	return nil
}
