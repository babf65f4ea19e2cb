// Package store keeps the connectors the mock knows and the members of
// every connector group: in memory (Memory), or in memory and in a bbolt file
// (Durable). It knows nothing of HTTP.
//
// A connector is known once, by its id; a group holds references to
// connectors, so a connector's properties are the same in every group it is
// in. Connector groups are entities too (groups.go): created, renamed and
// deleted, with a default group from the start; an add may create its group
// on first use (the seed page's path: the mock keeps one id for an
// application and its connector group) or require it (the service's paths).
//
// A connector is kept as the generated model the validator accepted, encoded
// as its JSON document: every property the spec gives a connector, present
// or added later, is stored and read back without this package naming it.
//
// The rules (a duplicate member, a member, connector or group not found,
// register or update, join, leave, reset, a group created, updated or
// deleted) are decided in one place, by the in-memory
// state (Memory.decideLocked), which turns an Op into the changes it makes.
// A Memory applies them; a Durable writes the same changes to its file and
// replays them when it opens it.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
)

// ErrDuplicateMember is returned by Store.Add and Store.AddReference when
// the connector is already a member of the group.
var ErrDuplicateMember = errors.New("connector is already a member")

// ErrMemberNotFound is returned when the connector is not a member of the
// group.
var ErrMemberNotFound = errors.New("connector is not a member")

// ErrConnectorNotFound is returned when the store knows no connector with
// the id.
var ErrConnectorNotFound = errors.New("no such connector")

// ErrInDefaultGroup is returned by Remove for a member of the default
// group: a connector is always in a group, and out of any other it is in
// the default one; it leaves the default group by being added to another.
var ErrInDefaultGroup = errors.New("a connector leaves the default group by being added to another group")

// Member is a connector as the store keeps it: the generated model with
// every property the spec gives a connector, and its id, which a stored
// connector always has (the model's own ID, optional on input, is not read:
// ID is the connector's id).
type Member struct {
	ID uuid.UUID
	generated.Connector
}

// Cursor marks a position in a listing's order: a page resumes after it.
// The zero Cursor is the start.
type Cursor uint64

// Page is one page of a group's members, or of the connectors, in order.
type Page struct {
	Members []Member
	// Next resumes after the last member of this page; it is only meaningful
	// when More is true.
	Next Cursor
	// More tells whether members follow this page.
	More bool
}

// GroupPage is one page of the groups a connector is a member of, in the
// order it joined them.
type GroupPage struct {
	Groups []uuid.UUID
	// Next resumes after the last group of this page, when More is true.
	Next Cursor
	// More tells whether groups follow this page.
	More bool
}

// Store keeps the connectors and the groups that hold them. Every group
// starts empty. Implementations are safe for concurrent use.
type Store interface {
	// Add makes connector m a member of the group app: it registers m when its
	// id is new, or updates the known connector's properties to m's (as a
	// connector agent reporting a new address would). When m is a member of
	// the group already it returns ErrDuplicateMember and changes nothing.
	Add(ctx context.Context, app uuid.UUID, m Member) error
	// AddReference makes the known connector id a member of the group app and
	// returns it, or returns ErrConnectorNotFound or ErrDuplicateMember.
	AddReference(ctx context.Context, app, id uuid.UUID) (Member, error)
	// Register registers connector m in no group, or updates the known
	// connector's properties to m's (what installing a connector agent does).
	Register(ctx context.Context, m Member) error
	// Get returns the member id of the group app, or ErrMemberNotFound.
	Get(ctx context.Context, app, id uuid.UUID) (Member, error)
	// Remove deletes the member id from the group app, or returns
	// ErrMemberNotFound. The connector stays known.
	Remove(ctx context.Context, app, id uuid.UUID) error
	// List returns up to limit members of the group app that were added
	// after the position after, in insertion order.
	List(ctx context.Context, app uuid.UUID, after Cursor, limit int) (Page, error)
	// Connector returns the connector id, or ErrConnectorNotFound.
	Connector(ctx context.Context, id uuid.UUID) (Member, error)
	// Connectors returns up to limit connectors registered after the
	// position after, in the order they became known.
	Connectors(ctx context.Context, after Cursor, limit int) (Page, error)
	// ScanMembers calls fn with each member of group (nil: each connector)
	// after the position after, in order, until fn returns false; fn runs
	// under the store's read lock and must not call the store. It is what a
	// query ($filter, $orderby, $count) reads a listing with.
	ScanMembers(ctx context.Context, group *uuid.UUID, after Cursor, fn func(Cursor, *Member) bool) error
	// ScanGroups is ScanMembers for the connector groups, in creation order.
	ScanGroups(ctx context.Context, after Cursor, fn func(Cursor, *Group) bool) error
	// ScanApplications is ScanMembers for the applications assigned to
	// group, in the order they were assigned, or ErrGroupNotFound.
	ScanApplications(ctx context.Context, group uuid.UUID, after Cursor, fn func(Cursor, uuid.UUID) bool) error
	// MemberOf returns up to limit groups that connector id joined after the
	// position after, in the order it joined them, or ErrConnectorNotFound.
	MemberOf(ctx context.Context, id uuid.UUID, after Cursor, limit int) (GroupPage, error)
	// Reset empties the group app or, when app is nil, every group, and
	// forgets every connector.
	Reset(ctx context.Context, app *uuid.UUID) error
	// Applications lists up to limit groups that have members, but the
	// default group (no application's), created after the position after, in
	// the order they were created. Its cost follows the page, not the store:
	// it looks at no more than limit+MaxApplicationScan groups, and a page
	// that ends early for that says More.
	Applications(ctx context.Context, after Cursor, limit int) (ApplicationList, error)
	// Members is how many members the store holds, in all groups.
	Members() int
	// Do makes op: any change, with the options the methods above do not
	// take (an add that may not create its group; the group operations).
	Do(ctx context.Context, op Op) (Member, error)
	// Group returns the connector group id, or ErrGroupNotFound.
	Group(ctx context.Context, id uuid.UUID) (Group, error)
	// Groups returns up to limit connector groups created after the
	// position after, in the order they were created (the default first).
	Groups(ctx context.Context, after Cursor, limit int) (GroupList, error)
	// ApplicationGroup is the connector group of application app: the one
	// it is assigned to, or the group with its own id.
	ApplicationGroup(ctx context.Context, app uuid.UUID) (uuid.UUID, error)
	// GroupApplications returns up to limit applications assigned to group
	// after the position after, or ErrGroupNotFound.
	GroupApplications(ctx context.Context, group uuid.UUID, after Cursor, limit int) (ApplicationPage, error)
}

// Application is an application whose group has members, and how many.
type Application struct {
	ID      uuid.UUID
	Members int
}

// OpKind is what an Op asks of the store.
type OpKind uint8

// The kinds of Op.
const (
	// OpAdd registers Member (or updates the known connector with its id)
	// and makes it a member of Group.
	OpAdd OpKind = iota + 1
	// OpAddReference makes the known connector Member.ID a member of Group.
	OpAddReference
	// OpRegister registers Member in no group, or updates the known
	// connector with its id.
	OpRegister
	// OpRemove removes the member Member.ID from Group.
	OpRemove
	// OpReset empties Group or, with AllGroups, every group, and then
	// forgets every connector and every group but the default too.
	OpReset
	// OpCreateGroup creates the connector group Group with the properties
	// of GroupDoc.
	OpCreateGroup
	// OpUpdateGroup sets the properties GroupPatch names on the group Group.
	OpUpdateGroup
	// OpDeleteGroup deletes the connector group Group.
	OpDeleteGroup
	// OpAssign assigns the application Member.ID to the connector group
	// Group (moving it from the one it was assigned to).
	OpAssign
)

// Op is one request to change the store: what Add, AddReference, Register,
// Remove and Reset ask, and what AddAll takes many of.
type Op struct {
	Kind      OpKind
	Group     uuid.UUID
	Member    Member // the connector (OpAdd, OpRegister); only its ID otherwise
	AllGroups bool   // OpReset: every group, and the connectors
	// RequireGroup makes OpAdd and OpAddReference return ErrGroupNotFound
	// when Group does not exist, as the service's paths do; without it they
	// create it (named by its id), as the seed page's path does for an
	// application on its first add.
	RequireGroup bool
	// ViaApplication says Group is an application's id (the seed page's
	// path): the op is on the group the application is assigned to, or on
	// the group with the application's id when it is assigned to none.
	ViaApplication bool
	GroupDoc       generated.ConnectorGroupCreate // OpCreateGroup: the group's properties
	GroupPatch     generated.ConnectorGroupUpdate // OpUpdateGroup: what it changes

	doc []byte // the connector's document, encoded before any lock is taken
}

// mutations are a Store's changes, each an Op that do makes: a Memory
// decides and applies it, a Durable hands it to its committer.
type mutations struct {
	do func(context.Context, Op) (Member, error)
}

// Do implements Store.
func (m mutations) Do(ctx context.Context, op Op) (Member, error) { return m.do(ctx, op) }

// Add implements Store.
func (m mutations) Add(ctx context.Context, app uuid.UUID, member Member) error {
	_, err := m.do(ctx, Op{Kind: OpAdd, Group: app, Member: member})
	return err
}

// Register implements Store.
func (m mutations) Register(ctx context.Context, member Member) error {
	_, err := m.do(ctx, Op{Kind: OpRegister, Member: member})
	return err
}

// AddReference implements Store.
func (m mutations) AddReference(ctx context.Context, app, id uuid.UUID) (Member, error) {
	return m.do(ctx, Op{Kind: OpAddReference, Group: app, Member: Member{ID: id}})
}

// Remove implements Store.
func (m mutations) Remove(ctx context.Context, app, id uuid.UUID) error {
	_, err := m.do(ctx, Op{Kind: OpRemove, Group: app, Member: Member{ID: id}})
	return err
}

// Reset implements Store.
func (m mutations) Reset(ctx context.Context, app *uuid.UUID) error {
	op := Op{Kind: OpReset, AllGroups: app == nil}
	if app != nil {
		op.Group, op.ViaApplication = *app, true // the application's group: the one it is assigned to, if any
	}
	_, err := m.do(ctx, op)
	return err
}

// prepare encodes the connector an Op registers, outside any lock.
func (op *Op) prepare() error {
	switch op.Kind {
	case OpCreateGroup:
		op.doc = groupDoc(op.Group, op.GroupDoc, false)
		return nil
	case OpUpdateGroup:
		patch := op.GroupPatch
		patch.OdataType, patch.ID, patch.IsDefault, patch.ConnectorGroupType = nil, nil, nil, nil // the server's
		doc, err := json.Marshal(patch)
		op.doc = doc
		return err
	case OpAdd, OpRegister:
	default:
		return nil
	}
	c := op.Member.Connector
	// Neither the id (the registry's entry has it; a state file's record
	// gets it, withID) nor the type (the API's to add): 44 bytes a
	// connector, kept once in memory.
	c.ID, c.OdataType = nil, nil
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding connector %s: %w", op.Member.ID, err)
	}
	op.doc = doc
	return nil
}

// changeKind is what a change does to the state.
type changeKind uint8

const (
	putConnector changeKind = iota + 1 // register a connector at seq, or update the known one (its seq stays)
	join                               // connector id joins group at position seq
	leave                              // connector id, at position seq, leaves group
	dropGroup                          // group is emptied
	dropAll                            // every group is emptied, every connector and every group but the default forgotten
	putGroup                           // group is created at seq with doc, or its document replaced
	deleteGroup                        // group, at seq, is deleted
	assign                             // application id is assigned to group at position seq
	unassign                           // application id, at seq, is no longer assigned to group
)

// change is one change an Op made, as Memory.decideLocked decides it: a
// Memory applies it, a Durable writes it to its file in the same order, and
// opening a file replays what it holds as these changes.
type change struct {
	kind  changeKind
	seq   uint64
	group uuid.UUID
	id    uuid.UUID
	doc   []byte // putConnector, putGroup: the connector's or the group's document
}

// Memory is a Store held in memory. The connectors are a registry in the
// order they became known plus an index by id; each group is its entries (a
// position and a connector id) in insertion order plus an index by id (a
// group of one member is that member alone, in single).
// Removal from a group leaves a tombstone that a later compaction drops, so a
// page is found by binary search and costs in proportion to its size, not to
// the size of the group.
//
// The entries hold no pointers: a connector's document lives in the
// registry's byte chunks and its entry keeps where, so the garbage collector
// never scans the members. Entries and documents are kept in chunks of a
// fixed size once a list outgrows its first one, so a growing group never
// copies what it holds.
type Memory struct {
	mutations
	mu     sync.RWMutex
	seq    uint64                     // the last Cursor handed out, across all lists
	groups map[uuid.UUID]*memoryGroup // the groups of two members or more (or that once had them)
	// single holds the groups of one member, most groups when each
	// application has its own: an entry of 24 bytes in a map, where a list
	// took some 120 bytes of its own and a place in groups.
	single     map[uuid.UUID]singleMember
	connectors connectorRegistry // never has tombstones; its entries' documents are in its data
	garbage    int               // bytes of connectors.data that no entry refers to any more
	live       int               // bytes of connectors.data that entries refer to
	members    int               // members in all groups
	groupReg   groupRegistry
	assigned   assignments
}

// Chunk sizes: a chunk is allocated whole once the list has filled its
// first one, which grows as an ordinary slice (most groups stay small).
const (
	entryChunk = 4096     // entries a chunk
	dataChunk  = 64 << 10 // bytes of documents a chunk, unless one connector needs more
)

// memoryGroup is a list of entries in ascending seq: a group's members, or
// the registry of connectors.
type memoryGroup struct {
	chunks [][]memoryEntry // ascending seq; removed entries are tombstones
	n      int             // entries in chunks, tombstones included
	// index maps id -> position in chunks, live entries only (4 bytes: a
	// smaller index misses the cache less). A list of at most smallList
	// entries has none, and is scanned: most groups hold one connector, and
	// a map for one costs some 200 bytes.
	index map[uuid.UUID]uint32
	// aux is, while there is no index, how many entries are live; once
	// there is one, where the first live entry is (the entries before it
	// are tombstones a page need not walk: removing the oldest members
	// first would otherwise make each first page walk up to half the list).
	// One field for the two: a group of one connector is most groups.
	aux int
}

// connectorRegistry is the list of every connector, with their documents
// and the one group each is a member of.
type connectorRegistry struct {
	memoryGroup
	data [][]byte // the documents, in chunks
	// groups holds each connector's group (uuid.Nil: none), at its entry's
	// position, in chunks as the entries are: 16 bytes a connector, where a
	// map from connector to group took some 80 at a million, and a restart
	// built it with a million inserts.
	groups [][]uuid.UUID
}

// groupSlot is where the group of the connector at position i is kept.
func (r *connectorRegistry) groupSlot(i int) *uuid.UUID {
	return &r.groups[i/entryChunk][i%entryChunk]
}

// groupOf is the group connector id is a member of, if any.
func (r *connectorRegistry) groupOf(id uuid.UUID) (uuid.UUID, bool) {
	i, ok := r.index[id]
	if !ok {
		return uuid.Nil, false
	}
	g := *r.groupSlot(int(i))
	return g, g != uuid.Nil
}

// setGroup makes group (uuid.Nil: none) the group of the known connector id.
func (r *connectorRegistry) setGroup(id, group uuid.UUID) {
	if i, ok := r.index[id]; ok {
		*r.groupSlot(int(i)) = group
	}
}

// pushGroupSlot adds the group slot of a connector just appended.
func (r *connectorRegistry) pushGroupSlot() {
	last := len(r.groups) - 1
	if last < 0 || len(r.groups[last]) == entryChunk {
		var chunk []uuid.UUID
		if last >= 0 { // as push does: the first chunk grows, the others are whole
			chunk = make([]uuid.UUID, 0, entryChunk)
		}
		r.groups = append(r.groups, chunk)
		last++
	}
	r.groups[last] = append(r.groups[last], uuid.Nil)
}

// smallList is the most entries a list holds without an index.
const smallList = 8

// memoryEntry is a member of a group (seq, id, removed) or a connector of
// the registry (seq, id and where its document is).
type memoryEntry struct {
	seq        uint64
	id         uuid.UUID
	chunk, off uint32 // the document is data[chunk][off:off+size]
	size       uint32
	removed    bool
}

// compactAt is the smallest group whose tombstones are worth compacting away.
const compactAt = 64

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	s := &Memory{
		groups:     make(map[uuid.UUID]*memoryGroup),
		single:     make(map[uuid.UUID]singleMember),
		connectors: connectorRegistry{memoryGroup: memoryGroup{index: make(map[uuid.UUID]uint32)}},
		seq:        1,
		groupReg:   newGroupRegistry(1), // the default group, before anything else
		assigned:   newAssignments(),
	}
	s.mutations = mutations{s.do}
	return s
}

// do decides op and applies what it changes, and returns the connector an
// add by reference made a member.
func (s *Memory) do(ctx context.Context, op Op) (Member, error) {
	if err := ctx.Err(); err != nil {
		return Member{}, err
	}
	if err := op.prepare(); err != nil {
		return Member{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.decideLocked(&op, nil); err != nil {
		return Member{}, err
	}
	if op.Kind == OpAddReference {
		return s.connectorLocked(op.Member.ID)
	}
	return Member{}, nil
}

// decideLocked is every rule of the store: it decides op against the state,
// applies the changes it makes, and appends them to changes. An op the rules
// refuse changes nothing.
func (s *Memory) decideLocked(op *Op, changes []change) ([]change, error) {
	id := op.Member.ID
	if op.ViaApplication {
		op.Group, op.ViaApplication = s.applicationGroupLocked(op.Group), false
	}
	switch op.Kind {
	case OpCreateGroup, OpUpdateGroup, OpDeleteGroup:
		return s.decideGroupLocked(op, changes)
	case OpAssign:
		return s.decideAssignLocked(op, changes)
	case OpAdd, OpAddReference:
		exists := s.groupReg.has(op.Group)
		if !exists && op.RequireGroup {
			return changes, ErrGroupNotFound
		}
		current, in := s.connectors.groupOf(id)
		if in && current == op.Group {
			return changes, ErrDuplicateMember
		}
		if op.Kind == OpAddReference {
			if _, known := s.connectors.index[id]; !known {
				return changes, ErrConnectorNotFound
			}
		}
		if !exists {
			s.seq++
			changes = append(changes, s.applyLocked(change{kind: putGroup, seq: s.seq, group: op.Group, doc: implicitGroupDoc(op.Group)}))
		}
		if in {
			// A connector is in one group: the add moves it.
			seq, _ := s.seqLocked(current, id)
			changes = append(changes, s.applyLocked(change{kind: leave, seq: seq, group: current, id: id}))
		}
		s.seq++
		if op.Kind == OpAdd {
			changes = append(changes, s.applyLocked(change{kind: putConnector, seq: s.seq, id: id, doc: op.doc}))
		}
		return append(changes, s.applyLocked(change{kind: join, seq: s.seq, group: op.Group, id: id})), nil
	case OpRegister:
		if _, known := s.connectors.index[id]; known {
			return append(changes, s.applyLocked(change{kind: putConnector, seq: s.seq, id: id, doc: op.doc})), nil
		}
		// A new connector is in the default group until it is placed elsewhere.
		s.seq++
		changes = append(changes, s.applyLocked(change{kind: putConnector, seq: s.seq, id: id, doc: op.doc}))
		return append(changes, s.applyLocked(change{kind: join, seq: s.seq, group: DefaultGroupID, id: id})), nil
	case OpRemove:
		seq, ok := s.seqLocked(op.Group, id)
		if !ok {
			return changes, ErrMemberNotFound
		}
		if op.Group == DefaultGroupID {
			return changes, ErrInDefaultGroup
		}
		// Out of its group, a connector is back in the default group.
		changes = append(changes, s.applyLocked(change{kind: leave, seq: seq, group: op.Group, id: id}))
		s.seq++
		return append(changes, s.applyLocked(change{kind: join, seq: s.seq, group: DefaultGroupID, id: id})), nil
	case OpReset:
		if op.AllGroups {
			return append(changes, s.applyLocked(change{kind: dropAll})), nil
		}
		return s.emptyGroupLocked(op.Group, changes), nil
	}
	return changes, fmt.Errorf("an op of unknown kind %d", op.Kind)
}

// applyLocked makes change c, which decideLocked decided or a state file
// holds, and returns it. A putConnector of a known connector keeps its
// position, whatever c.seq says.
func (s *Memory) applyLocked(c change) change {
	switch c.kind {
	case putConnector:
		c.seq = s.registerLocked(c.id, c.doc, c.seq)
	case join:
		g := s.groups[c.group]
		one, single := s.single[c.group]
		switch {
		case g != nil:
			g.join(c.id, c.seq)
		case single: // a second member: the group becomes a list
			g = &memoryGroup{} // indexed once it outgrows smallList
			g.join(one.id, one.seq)
			g.join(c.id, c.seq)
			s.groups[c.group] = g
			delete(s.single, c.group)
		default:
			s.single[c.group] = singleMember{seq: c.seq, id: c.id}
		}
		s.members++
		s.connectors.setGroup(c.id, c.group)
	case leave:
		s.deleteLocked(c.group, c.id)
		s.connectors.setGroup(c.id, uuid.Nil)
	case dropGroup:
		if one, ok := s.single[c.group]; ok {
			s.members--
			s.connectors.setGroup(one.id, uuid.Nil)
			delete(s.single, c.group)
		}
		if g := s.groups[c.group]; g != nil {
			s.members -= g.size()
			for i := range g.n {
				if e := g.at(i); !e.removed {
					s.connectors.setGroup(e.id, uuid.Nil)
				}
			}
			delete(s.groups, c.group)
		}
	case dropAll:
		clear(s.groups)
		clear(s.single)
		s.assigned = newAssignments()
		s.connectors = connectorRegistry{memoryGroup: memoryGroup{index: make(map[uuid.UUID]uint32)}}
		s.garbage, s.live, s.members = 0, 0, 0
		s.groupReg = newGroupRegistry(s.groupReg.seqOf(DefaultGroupID))
	case putGroup:
		c.seq = s.groupReg.put(c.group, c.seq, c.doc)
	case deleteGroup:
		s.groupReg.remove(c.group)
	case assign, unassign:
		s.applyAssignmentLocked(c)
	}
	s.seq = max(s.seq, c.seq)
	return c
}

// loadLocked applies a change read back from a state file, refusing what no
// sequence of decided changes can hold: a connector twice, a member of a
// connector not held, a member twice, members out of order.
func (s *Memory) loadLocked(c change) error {
	switch c.kind {
	case putConnector:
		r := &s.connectors
		if r.n > 0 && r.at(r.n-1).seq >= c.seq {
			return errors.New("connectors out of order")
		}
		// One access of the index, not a lookup and then an insert: a
		// million of them are most of a restart. A refused load is
		// dropped whole, so what a duplicate overwrote does not matter.
		known := len(r.index)
		r.index[c.id] = uint32(r.n)
		if len(r.index) == known {
			return ErrDuplicateMember
		}
		s.appendConnectorLocked(c.id, c.doc, c.seq)
		return nil
	case join:
		if _, ok := s.connectors.index[c.id]; !ok {
			return ErrConnectorNotFound
		}
		if g := s.listLocked(c.group); g != nil {
			if g.has(c.id) {
				return ErrDuplicateMember
			}
			if g.at(g.n-1).seq >= c.seq {
				return errors.New("members out of order")
			}
		}
	}
	s.applyLocked(c)
	return nil
}

// loadGroups loads the members a state file holds, as changes of kind join
// sorted by group and position (the file's key order): each group is built
// whole, its index sized once, the groups on every core (they share nothing
// but the connectors' index, which only they read). What no sequence of
// decided changes can hold is refused, as by loadLocked, naming the first
// such member in the file's order.
func (s *Memory) loadGroupsLocked(members []change) error {
	type built struct {
		group uuid.UUID
		g     *memoryGroup
		bad   int // the index in members of a member refused, or -1
		err   error
	}
	var runs []built
	var starts []int
	for i, c := range members {
		if i == 0 || c.group != members[i-1].group {
			runs, starts = append(runs, built{group: c.group, bad: -1}), append(starts, i)
		}
	}
	starts = append(starts, len(members))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for r := w; r < len(runs); r += workers {
				run := members[starts[r]:starts[r+1]]
				if s.hasMembersLocked(runs[r].group) {
					runs[r].bad, runs[r].err = starts[r], errors.New("its group is already loaded")
					continue
				}
				g := &memoryGroup{}
				if len(run) > smallList {
					g.index = make(map[uuid.UUID]uint32, len(run))
				}
				for i, c := range run {
					switch _, known := s.connectors.index[c.id]; {
					case !known:
						runs[r].err = ErrConnectorNotFound
					case g.index == nil && g.has(c.id): // a small list is scanned; an indexed one is checked by its insert below
						runs[r].err = ErrDuplicateMember
					case g.n > 0 && g.at(g.n-1).seq >= c.seq:
						runs[r].err = errors.New("members out of order")
					}
					if runs[r].err == nil {
						// One access of an index, not a lookup and then an
						// insert: an insert that leaves the size as it was
						// found the member there already (the group is
						// dropped, refused, so what it overwrote is moot).
						size := g.size()
						if g.join(c.id, c.seq); g.size() == size {
							runs[r].err = ErrDuplicateMember
						}
					}
					if runs[r].err != nil {
						runs[r].bad = starts[r] + i
						break
					}
				}
				runs[r].g = g
			}
		})
	}
	wg.Wait()
	for _, r := range runs {
		if r.err != nil {
			return &loadRefusal{at: r.bad, err: r.err}
		}
	}
	for _, r := range runs {
		if r.g.n == 1 {
			e := r.g.at(0)
			s.single[r.group] = singleMember{seq: e.seq, id: e.id}
		} else {
			s.groups[r.group] = r.g
		}
		s.members += r.g.n
		s.seq = max(s.seq, r.g.at(r.g.n-1).seq)
	}
	return nil
}

// loadRefusal is a member loadGroupsLocked refused: members[at], and why.
type loadRefusal struct {
	at  int
	err error
}

func (e *loadRefusal) Error() string { return e.err.Error() }
func (e *loadRefusal) Unwrap() error { return e.err }

// has tells whether connector id is a member of g.
func (g *memoryGroup) has(id uuid.UUID) bool {
	_, ok := g.find(id)
	return ok
}

// find is the position of the live entry id.
func (g *memoryGroup) find(id uuid.UUID) (uint32, bool) {
	if g.index != nil {
		i, ok := g.index[id]
		return i, ok
	}
	for i := range g.n {
		if e := g.at(i); !e.removed && e.id == id {
			return uint32(i), true
		}
	}
	return 0, false
}

// size is how many live entries g holds.
func (g *memoryGroup) size() int {
	if g.index != nil {
		return len(g.index)
	}
	return g.aux
}

// head is the position of g's first live entry, or some position before it.
func (g *memoryGroup) head() int {
	if g.index != nil {
		return g.aux
	}
	return 0
}

// join appends connector id at position seq, above every position g holds.
func (g *memoryGroup) join(id uuid.UUID, seq uint64) {
	if g.index == nil && g.n >= smallList {
		g.index = make(map[uuid.UUID]uint32, 2*smallList)
		g.aux = g.n // now the first live entry's position
		for i := g.n - 1; i >= 0; i-- {
			if e := g.at(i); !e.removed {
				g.index[e.id] = uint32(i)
				g.aux = i
			}
		}
	}
	if g.index != nil {
		if len(g.index) == 0 {
			g.aux = g.n
		}
		g.index[id] = uint32(g.n)
	} else {
		g.aux++
	}
	g.push(memoryEntry{seq: seq, id: id})
}

// withID is a connector's document as a state file keeps it: with its id,
// first, which the document kept in memory leaves out (the registry's entry
// holds it). A document that has an id already (one a file written by an
// earlier build held) is returned as it is.
func withID(id uuid.UUID, doc []byte) []byte {
	var text [36]byte
	reqcheck.GUIDText(&text, id)
	if len(doc) < 2 || doc[0] != '{' || hasTopLevelID(doc) {
		return doc
	}
	out := make([]byte, 0, len(doc)+len(text)+8)
	out = append(out, `{"id":"`...)
	out = append(out, text[:]...)
	out = append(out, '"')
	if len(doc) > 2 {
		out = append(out, ',')
	}
	return append(out, doc[1:]...)
}

// hasTopLevelID tells whether the object doc has a property "id" of its
// own (not one of an object inside it).
func hasTopLevelID(doc []byte) bool {
	if !bytes.Contains(doc, []byte(`"id"`)) {
		return false // the document of every add: no decoder on the commit's path
	}
	dec := jsontext.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return false
		}
		if name.String() == "id" {
			return true
		}
		if err := dec.SkipValue(); err != nil {
			return false
		}
	}
	return false
}

// withoutID is doc, a state file's record of connector id, as memory keeps
// it, appended to buf: without the id withID put first. A record with its id
// elsewhere (an earlier build's) is kept whole.
func withoutID(buf []byte, id uuid.UUID, doc []byte) []byte {
	var text [36]byte
	reqcheck.GUIDText(&text, id)
	const head = len(`{"id":"`)
	if len(doc) > head+len(text)+1 && string(doc[:head]) == `{"id":"` && string(doc[head:head+len(text)]) == string(text[:]) && doc[head+len(text)] == '"' {
		switch rest := doc[head+len(text)+1:]; rest[0] {
		case ',':
			return append(append(buf, '{'), rest[1:]...)
		case '}':
			return append(buf, '{', '}')
		}
	}
	return append(buf, doc...)
}

// eachConnector calls emit with the change that registers each connector,
// in order, until emit fails.
func (s *Memory) eachConnector(emit func(change) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := &s.connectors
	for i := range r.n {
		e := r.at(i)
		if err := emit(change{kind: putConnector, seq: e.seq, id: e.id, doc: r.doc(e)}); err != nil {
			return err
		}
	}
	return nil
}

// registerLocked registers the connector id with document doc at position
// seq or, when it is known, replaces its document (its position stays), and
// returns its position. A document that fits where the old one was is
// written there; the registry's documents are compacted once more of them
// are garbage than not, so updates cost amortised constant time and memory
// follows what is live.
func (s *Memory) registerLocked(id uuid.UUID, doc []byte, seq uint64) uint64 {
	r := &s.connectors
	i, known := r.index[id]
	if !known {
		s.registerNewLocked(id, doc, seq)
		return seq
	}
	e := r.at(int(i))
	old := r.doc(e)
	if string(old) == string(doc) {
		return e.seq
	}
	s.live += len(doc) - len(old)
	if len(doc) <= len(old) {
		copy(old, doc)
		s.garbage += len(old) - len(doc)
	} else {
		s.garbage += len(old)
		e.chunk, e.off = r.appendDoc(doc)
	}
	e.size = uint32(len(doc))
	if s.garbage >= dataChunk && s.garbage > s.live {
		s.compactConnectorDocs()
	}
	return e.seq
}

// registerNewLocked registers the connector id, which the registry does not
// hold, with document doc at position seq.
func (s *Memory) registerNewLocked(id uuid.UUID, doc []byte, seq uint64) {
	s.connectors.index[id] = uint32(s.connectors.n)
	s.appendConnectorLocked(id, doc, seq)
}

// appendConnectorLocked appends a connector whose index entry is made.
func (s *Memory) appendConnectorLocked(id uuid.UUID, doc []byte, seq uint64) {
	r := &s.connectors
	e := memoryEntry{seq: seq, id: id, size: uint32(len(doc))}
	e.chunk, e.off = r.appendDoc(doc)
	r.push(e)
	r.pushGroupSlot()
	s.live += len(doc)
	s.seq = max(s.seq, seq)
}

// compactConnectorDocs copies the registry's live documents into fresh
// chunks, dropping what updates left behind.
func (s *Memory) compactConnectorDocs() {
	r := &s.connectors
	old := r.data
	r.data = nil
	for i := range r.n {
		e := r.at(i)
		e.chunk, e.off = r.appendDoc(old[e.chunk][e.off : e.off+e.size])
	}
	s.garbage = 0
}

// push appends e to the list's entries.
func (g *memoryGroup) push(e memoryEntry) {
	last := len(g.chunks) - 1
	if last < 0 || len(g.chunks[last]) == entryChunk {
		var chunk []memoryEntry
		if last >= 0 { // the first chunk is full: the list is big, so are its chunks
			chunk = make([]memoryEntry, 0, entryChunk)
		}
		g.chunks = append(g.chunks, chunk)
		last++
	}
	g.chunks[last] = append(g.chunks[last], e)
	g.n++
}

// at is the entry at position i.
func (g *memoryGroup) at(i int) *memoryEntry {
	return &g.chunks[i/entryChunk][i%entryChunk]
}

// doc is the document of the registry's entry e.
func (g *connectorRegistry) doc(e *memoryEntry) []byte {
	return g.data[e.chunk][e.off : e.off+e.size : e.off+e.size]
}

// appendDoc stores doc in the registry's chunks and says where.
func (g *connectorRegistry) appendDoc(doc []byte) (chunk, off uint32) {
	last := len(g.data) - 1
	if last < 0 || (len(g.data[last])+len(doc) > dataChunk && len(g.data[last]) > 0) {
		var c []byte
		if last >= 0 {
			c = make([]byte, 0, max(dataChunk, len(doc)))
		}
		g.data = append(g.data, c)
		last++
	}
	off = uint32(len(g.data[last]))
	g.data[last] = append(g.data[last], doc...)
	return uint32(last), off
}

// connectorLocked decodes connector id, which must be known.
func (s *Memory) connectorLocked(id uuid.UUID) (Member, error) {
	r := &s.connectors
	e := r.at(int(r.index[id]))
	m := Member{ID: e.id}
	if err := json.Unmarshal(r.doc(e), &m.Connector); err != nil {
		return Member{}, fmt.Errorf("decoding connector %s: %w", id, err)
	}
	m.Connector.ID = nil
	return m, nil
}

// Get implements Store.
func (s *Memory) Get(ctx context.Context, app, id uuid.UUID) (Member, error) {
	if err := ctx.Err(); err != nil {
		return Member{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.seqLocked(app, id); !ok {
		return Member{}, ErrMemberNotFound
	}
	return s.connectorLocked(id)
}

// Connector implements Store.
func (s *Memory) Connector(ctx context.Context, id uuid.UUID) (Member, error) {
	if err := ctx.Err(); err != nil {
		return Member{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.connectors.index[id]; !ok {
		return Member{}, ErrConnectorNotFound
	}
	return s.connectorLocked(id)
}

// seqLocked is the position of member id in the group of app.
func (s *Memory) seqLocked(app, id uuid.UUID) (uint64, bool) {
	g := s.groups[app]
	if g == nil {
		if one, ok := s.single[app]; ok && one.id == id {
			return one.seq, true
		}
		return 0, false
	}
	i, ok := g.find(id)
	if !ok {
		return 0, false
	}
	return g.at(int(i)).seq, true
}

// singleMember is the one member of a group in single.
type singleMember struct {
	seq uint64
	id  uuid.UUID
}

// listLocked is the member list of group, nil for none: a group of one
// member is given as a list of its own, made for the call.
func (s *Memory) listLocked(group uuid.UUID) *memoryGroup {
	if g := s.groups[group]; g != nil {
		return g
	}
	if one, ok := s.single[group]; ok {
		return &memoryGroup{chunks: [][]memoryEntry{{{seq: one.seq, id: one.id}}}, n: 1, aux: 1}
	}
	return nil
}

// hasMembersLocked tells whether group has members.
func (s *Memory) hasMembersLocked(group uuid.UUID) bool {
	_, one := s.single[group]
	return one || s.groups[group] != nil
}

// sizeLocked is how many members group has.
func (s *Memory) sizeLocked(group uuid.UUID) int {
	if g := s.groups[group]; g != nil {
		return g.size()
	}
	if _, ok := s.single[group]; ok {
		return 1
	}
	return 0
}

// deleteLocked removes member id, which must be in the group of app.
func (s *Memory) deleteLocked(app, id uuid.UUID) {
	s.members--
	if _, ok := s.single[app]; ok {
		delete(s.single, app)
		return
	}
	if s.groups[app].remove(id) {
		delete(s.groups, app) // an empty group is the same as no group
	}
}

// remove deletes the live entry id, leaving a tombstone that a compaction
// drops once half the list is tombstones, and reports whether the list is
// now empty.
func (g *memoryGroup) remove(id uuid.UUID) (empty bool) {
	i, _ := g.find(id)
	if g.index != nil {
		delete(g.index, id)
	} else {
		g.aux--
	}
	if g.size() == 0 {
		return true
	}
	g.at(int(i)).removed = true
	if g.index != nil && int(i) == g.aux {
		for g.aux < g.n && g.at(g.aux).removed {
			g.aux++ // each entry passed once: amortised constant
		}
	}
	if g.n >= compactAt && g.size() < g.n/2 {
		g.compact()
	}
	return false
}

// compact drops the tombstones; amortised over the removals that made them.
func (g *memoryGroup) compact() {
	old := g.chunks
	g.chunks, g.n = nil, 0
	if g.index != nil {
		g.aux = 0 // no tombstone is left before the first live entry
	}
	for _, chunk := range old {
		for _, e := range chunk {
			if e.removed {
				continue
			}
			if g.index != nil {
				g.index[e.id] = uint32(g.n)
			}
			g.push(e)
		}
	}
}

// List implements Store.
func (s *Memory) List(ctx context.Context, app uuid.UUID, after Cursor, limit int) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pageLocked(s.listLocked(app), after, limit)
}

// Connectors implements Store.
func (s *Memory) Connectors(ctx context.Context, after Cursor, limit int) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pageLocked(&s.connectors.memoryGroup, after, limit)
}

// pageLocked is up to limit connectors of g (nil: none) after the position after.
func (s *Memory) pageLocked(g *memoryGroup, after Cursor, limit int) (Page, error) {
	var page Page
	if limit <= 0 {
		return page, nil
	}
	err := s.scanLocked(g, after, func(at Cursor, m *Member) bool {
		if len(page.Members) == limit {
			page.More = true
			return false
		}
		page.Members = append(page.Members, *m)
		page.Next = at
		return true
	})
	if err != nil {
		return Page{}, err
	}
	return page, nil
}

// ScanMembers calls fn with each member of group (nil: each connector the
// store knows) after the position after, in order, and where it is, until fn
// returns false. fn runs under the store's read lock: it must not call the
// store, and the member it is given is its own.
func (s *Memory) ScanMembers(ctx context.Context, group *uuid.UUID, after Cursor, fn func(Cursor, *Member) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := &s.connectors.memoryGroup
	if group != nil {
		g = s.listLocked(*group)
	}
	return s.scanLocked(g, after, fn)
}

// scanLocked is ScanMembers over g (nil: none).
func (s *Memory) scanLocked(g *memoryGroup, after Cursor, fn func(Cursor, *Member) bool) error {
	if g == nil {
		return nil
	}
	start := max(sort.Search(g.n, func(i int) bool { return g.at(i).seq > uint64(after) }), g.head())
	for i := start; i < g.n; i++ {
		e := g.at(i)
		if e.removed {
			continue
		}
		m, err := s.connectorLocked(e.id)
		if err != nil {
			return err
		}
		if !fn(Cursor(e.seq), &m) {
			return nil
		}
	}
	return nil
}

// MemberOf implements Store: a connector is in one group, which the
// registry keeps beside it, so the answer is a lookup.
func (s *Memory) MemberOf(ctx context.Context, id uuid.UUID, after Cursor, limit int) (GroupPage, error) {
	if err := ctx.Err(); err != nil {
		return GroupPage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.connectors.index[id]; !ok {
		return GroupPage{}, ErrConnectorNotFound
	}
	var page GroupPage
	group, in := s.connectors.groupOf(id)
	if !in || limit <= 0 {
		return page, nil
	}
	// A connector is in one group: the page is it, unless the cursor is past it.
	if seq, _ := s.seqLocked(group, id); seq > uint64(after) {
		page.Groups, page.Next = []uuid.UUID{group}, Cursor(seq)
	}
	return page, nil
}

// Applications implements Store.
func (s *Memory) Applications(ctx context.Context, after Cursor, limit int) (ApplicationList, error) {
	if err := ctx.Err(); err != nil {
		return ApplicationList{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := ApplicationList{Total: len(s.groups) + len(s.single)}
	if s.hasMembersLocked(DefaultGroupID) {
		out.Total--
	}
	l := &s.groupReg.list
	i := max(sort.Search(l.n, func(i int) bool { return l.at(i).seq > uint64(after) }), l.head())
	for budget := limit + MaxApplicationScan; i < l.n && budget > 0; i, budget = i+1, budget-1 {
		e := l.at(i)
		out.Next = Cursor(e.seq)
		members := s.sizeLocked(e.id)
		if e.removed || members == 0 || e.id == DefaultGroupID {
			continue
		}
		if len(out.Applications) == limit {
			out.More = true
			out.Next = Cursor(l.at(i - 1).seq)
			return out, nil
		}
		out.Applications = append(out.Applications, Application{ID: e.id, Members: members})
	}
	out.More = i < l.n
	return out, nil
}

// MaxApplicationScan bounds the groups without members one page of
// Applications passes over.
const MaxApplicationScan = 4096

// ApplicationList is one page of Applications.
type ApplicationList struct {
	Applications []Application
	// Next resumes after this page, when More is true.
	Next Cursor
	More bool
	// Total is how many groups have members, but the default group.
	Total int
}

// connectorCount is how many connectors the store knows.
func (s *Memory) connectorCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.connectors.index)
}

// Members implements Store: a count kept as changes are applied.
func (s *Memory) Members() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.members
}

// AddAll makes the ops in order and returns how each went (nil,
// ErrDuplicateMember, ErrConnectorNotFound, …). A Durable commits them many
// to a transaction, as it does concurrent writes, rather than one fsync each;
// any other store gets them one by one. It stops early only when ctx ends,
// and then the ops not made have ctx's error.
func AddAll(ctx context.Context, s Store, ops []Op) []error {
	switch s := s.(type) {
	case *Durable:
		return s.doAll(ctx, ops)
	case *Memory:
		errs := make([]error, len(ops))
		for i, op := range ops {
			_, errs[i] = s.do(ctx, op)
		}
		return errs
	}
	errs := make([]error, len(ops))
	for i, op := range ops {
		if errs[i] = ctx.Err(); errs[i] != nil {
			continue
		}
		switch op.Kind {
		case OpRegister:
			errs[i] = s.Register(ctx, op.Member)
		case OpAddReference:
			_, errs[i] = s.AddReference(ctx, op.Group, op.Member.ID)
		case OpAdd:
			errs[i] = s.Add(ctx, op.Group, op.Member)
		case OpRemove:
			errs[i] = s.Remove(ctx, op.Group, op.Member.ID)
		case OpReset:
			var group *uuid.UUID
			if !op.AllGroups {
				group = &op.Group
			}
			errs[i] = s.Reset(ctx, group)
		}
	}
	return errs
}
