// Package store keeps the connectors the mock knows and the members of
// every connector group: in memory (Memory), or in memory and in a bbolt file
// (Durable). It knows nothing of HTTP.
//
// A connector is known once, by its id; a group holds references to
// connectors, so a connector's properties are the same in every group it is
// in. Every id names a group that starts empty: the mock keeps one id for an
// application and its connector group.
package store

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
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

// Member is a connector as the store keeps it: the validated properties,
// with its id always set. A member of a group is a reference to one.
type Member struct {
	ID          uuid.UUID
	ExternalIP  string
	MachineName string
	Status      generated.ConnectorStatus
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
	// MemberOf returns up to limit groups that connector id joined after the
	// position after, in the order it joined them, or ErrConnectorNotFound.
	// It looks at every group: a connector's groups are not indexed, since
	// only this rare read would use the index and every add would pay for it.
	MemberOf(ctx context.Context, id uuid.UUID, after Cursor, limit int) (GroupPage, error)
	// Reset empties the group app or, when app is nil, every group, and
	// forgets every connector.
	Reset(ctx context.Context, app *uuid.UUID) error
	// Applications lists the groups that have members, oldest first.
	Applications(ctx context.Context) ([]Application, error)
	// Members is how many members the store holds, in all groups.
	Members() int
}

// Application is an application whose group has members, and how many.
type Application struct {
	ID      uuid.UUID
	Members int
}

// Memory is a Store held in memory. The connectors are a registry in the
// order they became known plus an index by id; each group is its entries (a
// position and a connector id) in insertion order plus an index by id.
// Removal from a group leaves a tombstone that a later compaction drops, so a
// page is found by binary search and costs in proportion to its size, not to
// the size of the group.
//
// The entries hold no pointers: a connector's strings live in the registry's
// byte chunks and its entry keeps where, and its status is a small number. The
// garbage collector then never scans the members, which keeps a store of a
// million members from slowing every request (measured under load).
//
// Entries and strings are kept in chunks of a fixed size once a list
// outgrows its first one, so a growing group never copies what it holds:
// doubling one slice copied ~100 MB at a million members, under the lock,
// and showed as a 125 ms p99 in `make bench`.
type Memory struct {
	mu         sync.RWMutex
	seq        uint64 // the last Cursor handed out, across all lists
	groups     map[uuid.UUID]*memoryGroup
	connectors memoryGroup                          // the registry: never has tombstones; its entries' strings are in its data
	garbage    int                                  // bytes of connectors.data that no entry refers to any more
	live       int                                  // bytes of connectors.data that entries refer to
	statuses   []generated.ConnectorStatus          // the distinct statuses seen, by number
	statusNo   map[generated.ConnectorStatus]uint32 // and their numbers
}

// Chunk sizes: a chunk is allocated whole once the list has filled its
// first one, which grows as an ordinary slice (most groups stay small).
const (
	entryChunk = 4096     // entries a chunk
	dataChunk  = 64 << 10 // bytes of strings a chunk, unless one connector needs more
)

// memoryGroup is a list of entries in ascending seq: a group's members, or
// the registry of connectors.
type memoryGroup struct {
	chunks [][]memoryEntry      // ascending seq; removed entries are tombstones
	n      int                  // entries in chunks, tombstones included
	index  map[uuid.UUID]uint32 // id -> position in chunks, live entries only (4 bytes: a smaller index misses the cache less; 2^32 entries would take some 400 GB)
	data   [][]byte             // the registry's strings; a group has none
}

// memoryEntry is a member of a group (seq, id, removed) or a connector of
// the registry (seq, id and the rest).
type memoryEntry struct {
	seq        uint64
	id         uuid.UUID
	chunk, off uint32 // the strings, external IP then machine name, are data[chunk][off:]
	ipLen      uint32
	nameLen    uint32
	status     uint32
	removed    bool
}

// compactAt is the smallest group whose tombstones are worth compacting away.
const compactAt = 64

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{
		groups:     make(map[uuid.UUID]*memoryGroup),
		connectors: memoryGroup{index: make(map[uuid.UUID]uint32)},
		statusNo:   make(map[generated.ConnectorStatus]uint32),
	}
}

// Add implements Store.
func (s *Memory) Add(ctx context.Context, app uuid.UUID, m Member) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[app]
	if g != nil {
		if _, ok := g.index[m.ID]; ok {
			return ErrDuplicateMember
		}
	}
	s.seq++
	s.registerLocked(m, s.seq)
	s.joinLocked(g, app, m.ID, s.seq)
	return nil
}

// Register implements Store.
func (s *Memory) Register(ctx context.Context, m Member) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.registerLocked(m, s.seq)
	return nil
}

// AddReference implements Store.
func (s *Memory) AddReference(ctx context.Context, app, id uuid.UUID) (Member, error) {
	if err := ctx.Err(); err != nil {
		return Member{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.connectors.index[id]; !ok {
		return Member{}, ErrConnectorNotFound
	}
	g := s.groups[app]
	if g != nil {
		if _, ok := g.index[id]; ok {
			return Member{}, ErrDuplicateMember
		}
	}
	s.seq++
	s.joinLocked(g, app, id, s.seq)
	return s.connectorLocked(id), nil
}

// memberChange is one change a Durable has written to disk and applies
// to its Memory: an add at a position (with the connector's properties, or
// by reference), a removal, or a reset.
type memberChange struct {
	app       uuid.UUID
	seq       uint64 // the position of an add
	member    Member // for a removal or a reference, only its ID
	reference bool   // an add of a known connector, its properties unchanged
	register  bool   // a connector registered in no group
	remove    bool
	reset     bool       // empty the group of target, or all groups when it is nil
	target    *uuid.UUID // for a reset
}

// loadConnector registers m at position seq, as read back from a state
// file; it must come after every connector loaded before it.
func (s *Memory) loadConnector(seq uint64, m Member) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.connectors.index[m.ID]; ok {
		return ErrDuplicateMember
	}
	s.registerLocked(m, seq)
	s.seq = max(s.seq, seq)
	return nil
}

// loadProperties registers m at position seq, or updates the known
// connector with its id, as read back from a format-1 state file.
func (s *Memory) loadProperties(seq uint64, m Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerLocked(m, seq)
	s.seq = max(s.seq, seq)
}

// eachConnector calls emit with every connector and its position in the
// registry, in order, until emit fails.
func (s *Memory) eachConnector(emit func(seq uint64, m Member) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := range s.connectors.n {
		e := s.connectors.at(i)
		if err := emit(e.seq, s.connectorLocked(e.id)); err != nil {
			return err
		}
	}
	return nil
}

// loadMember adds the known connector id to the group app at position seq,
// as read back from a state file, refusing a member the group holds already
// and a connector the store does not know.
func (s *Memory) loadMember(app uuid.UUID, seq uint64, id uuid.UUID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.connectors.index[id]; !ok {
		return ErrConnectorNotFound
	}
	g := s.groups[app]
	if g != nil {
		if _, ok := g.index[id]; ok {
			return ErrDuplicateMember
		}
		if g.n > 0 && g.at(g.n-1).seq >= seq {
			return errors.New("members out of order")
		}
	}
	s.joinLocked(g, app, id, seq)
	return nil
}

// position is where member id stands in the group of app, if it is there.
func (s *Memory) position(app, id uuid.UUID) (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seqLocked(app, id)
}

// registration is where connector id stands in the registry, if it is known.
func (s *Memory) registration(id uuid.UUID) (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.connectors.index[id]
	if !ok {
		return 0, false
	}
	return s.connectors.at(int(i)).seq, true
}

// lastPosition is the last position handed out, across all groups.
func (s *Memory) lastPosition() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq
}

// apply makes changes, all checked already, under one lock.
func (s *Memory) apply(changes []memberChange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range changes {
		switch {
		case c.reset:
			s.resetLocked(c.target)
		case c.remove:
			s.deleteLocked(c.app, c.member.ID)
		case c.register:
			s.registerLocked(c.member, c.seq)
		default:
			if !c.reference {
				s.registerLocked(c.member, c.seq)
			}
			s.joinLocked(s.groups[c.app], c.app, c.member.ID, c.seq)
		}
	}
}

// statusNumberLocked is the number of status, given one when it is new.
func (s *Memory) statusNumberLocked(status generated.ConnectorStatus) uint32 {
	n, ok := s.statusNo[status]
	if !ok {
		n = uint32(len(s.statuses))
		s.statuses = append(s.statuses, status)
		s.statusNo[status] = n
	}
	return n
}

// registerLocked registers m at position seq or, when its id is known,
// updates that connector's properties (its position stays). Strings that
// fit where the old ones were are written there; the registry's strings are
// compacted once more of them are garbage than not, so updates cost
// amortised constant time and memory follows what is live.
func (s *Memory) registerLocked(m Member, seq uint64) {
	r := &s.connectors
	status := s.statusNumberLocked(m.Status)
	size := len(m.ExternalIP) + len(m.MachineName)
	i, known := r.index[m.ID]
	if !known {
		e := memoryEntry{seq: seq, id: m.ID, status: status, ipLen: uint32(len(m.ExternalIP)), nameLen: uint32(len(m.MachineName))}
		e.chunk, e.off = appendStrings(r, m.ExternalIP, m.MachineName)
		r.index[m.ID] = uint32(r.n)
		r.push(e)
		s.live += size
		return
	}
	e := r.at(int(i))
	old := r.data[e.chunk][e.off : e.off+e.ipLen+e.nameLen]
	e.status = status
	if string(old[:e.ipLen]) == m.ExternalIP && string(old[e.ipLen:]) == m.MachineName {
		return
	}
	s.live += size - len(old)
	if size <= len(old) {
		copy(old[copy(old, m.ExternalIP):], m.MachineName)
		s.garbage += len(old) - size
	} else {
		s.garbage += len(old)
		e.chunk, e.off = appendStrings(r, m.ExternalIP, m.MachineName)
	}
	e.ipLen, e.nameLen = uint32(len(m.ExternalIP)), uint32(len(m.MachineName))
	if s.garbage >= dataChunk && s.garbage > s.live {
		s.compactConnectorStrings()
	}
}

// compactConnectorStrings copies the registry's live strings into fresh
// chunks, dropping what updates left behind.
func (s *Memory) compactConnectorStrings() {
	r := &s.connectors
	old := r.data
	r.data = nil
	for i := range r.n {
		e := r.at(i)
		data := old[e.chunk][e.off:]
		e.chunk, e.off = appendStrings(r, data[:e.ipLen], data[e.ipLen:e.ipLen+e.nameLen])
	}
	s.garbage = 0
}

// joinLocked appends connector id to the group of app at position seq,
// which must be above every seq the group holds; g is the group, or nil when
// app has none yet.
func (s *Memory) joinLocked(g *memoryGroup, app, id uuid.UUID, seq uint64) {
	if g == nil {
		g = &memoryGroup{index: make(map[uuid.UUID]uint32)}
		s.groups[app] = g
	}
	g.index[id] = uint32(g.n)
	g.push(memoryEntry{seq: seq, id: id})
	if seq > s.seq {
		s.seq = seq
	}
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

// appendStrings stores a and b one after the other and says where; as bytes
// too, so that compaction moves them without making strings of them.
func appendStrings[T string | []byte](g *memoryGroup, a, b T) (chunk, off uint32) {
	need := len(a) + len(b)
	last := len(g.data) - 1
	if last < 0 || (len(g.data[last])+need > dataChunk && len(g.data[last]) > 0) {
		var c []byte
		if last >= 0 {
			c = make([]byte, 0, max(dataChunk, need))
		}
		g.data = append(g.data, c)
		last++
	}
	off = uint32(len(g.data[last]))
	g.data[last] = append(append(g.data[last], a...), b...)
	return uint32(last), off
}

// connectorLocked rebuilds connector id, which must be known.
func (s *Memory) connectorLocked(id uuid.UUID) Member {
	r := &s.connectors
	e := r.at(int(r.index[id]))
	data := r.data[e.chunk][e.off:]
	return Member{
		ID:          e.id,
		ExternalIP:  string(data[:e.ipLen]),
		MachineName: string(data[e.ipLen : e.ipLen+e.nameLen]),
		Status:      s.statuses[e.status],
	}
}

// Get implements Store.
func (s *Memory) Get(ctx context.Context, app, id uuid.UUID) (Member, error) {
	if err := ctx.Err(); err != nil {
		return Member{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[app]
	if g == nil {
		return Member{}, ErrMemberNotFound
	}
	if _, ok := g.index[id]; !ok {
		return Member{}, ErrMemberNotFound
	}
	return s.connectorLocked(id), nil
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
	return s.connectorLocked(id), nil
}

// Remove implements Store.
func (s *Memory) Remove(ctx context.Context, app, id uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seqLocked(app, id); !ok {
		return ErrMemberNotFound
	}
	s.deleteLocked(app, id)
	return nil
}

// seqLocked is the position of member id in the group of app.
func (s *Memory) seqLocked(app, id uuid.UUID) (uint64, bool) {
	g := s.groups[app]
	if g == nil {
		return 0, false
	}
	i, ok := g.index[id]
	if !ok {
		return 0, false
	}
	return g.at(int(i)).seq, true
}

// deleteLocked removes member id, which must be in the group of app.
func (s *Memory) deleteLocked(app, id uuid.UUID) {
	g := s.groups[app]
	i := g.index[id]
	delete(g.index, id)
	if len(g.index) == 0 {
		delete(s.groups, app) // an empty group is the same as no group
		return
	}
	g.at(int(i)).removed = true
	if g.n >= compactAt && len(g.index) < g.n/2 {
		g.compact()
	}
}

// compact drops the tombstones; amortised over the removals that made them.
func (g *memoryGroup) compact() {
	old := g.chunks
	g.chunks, g.n = nil, 0
	for _, chunk := range old {
		for _, e := range chunk {
			if e.removed {
				continue
			}
			g.index[e.id] = uint32(g.n)
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
	return s.pageLocked(s.groups[app], after, limit), nil
}

// Connectors implements Store.
func (s *Memory) Connectors(ctx context.Context, after Cursor, limit int) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pageLocked(&s.connectors, after, limit), nil
}

// pageLocked is up to limit connectors of g (nil: none) after the position after.
func (s *Memory) pageLocked(g *memoryGroup, after Cursor, limit int) Page {
	if g == nil || limit <= 0 {
		return Page{}
	}
	start := sort.Search(g.n, func(i int) bool { return g.at(i).seq > uint64(after) })
	page := Page{Members: make([]Member, 0, min(limit, len(g.index)))}
	for i := start; i < g.n; i++ {
		e := g.at(i)
		if e.removed {
			continue
		}
		if len(page.Members) == limit {
			page.More = true
			break
		}
		page.Members = append(page.Members, s.connectorLocked(e.id))
		page.Next = Cursor(e.seq)
	}
	return page
}

// MemberOf implements Store.
func (s *Memory) MemberOf(ctx context.Context, id uuid.UUID, after Cursor, limit int) (GroupPage, error) {
	if err := ctx.Err(); err != nil {
		return GroupPage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.connectors.index[id]; !ok {
		return GroupPage{}, ErrConnectorNotFound
	}
	type joined struct {
		seq   uint64
		group uuid.UUID
	}
	var in []joined
	for app, g := range s.groups {
		if i, ok := g.index[id]; ok {
			if seq := g.at(int(i)).seq; seq > uint64(after) {
				in = append(in, joined{seq, app})
			}
		}
	}
	slices.SortFunc(in, func(a, b joined) int { return cmp.Compare(a.seq, b.seq) })
	var page GroupPage
	if limit <= 0 {
		return page, nil
	}
	if len(in) > limit {
		in, page.More = in[:limit], true
	}
	page.Groups = make([]uuid.UUID, len(in))
	for i, j := range in {
		page.Groups[i] = j.group
		page.Next = Cursor(j.seq)
	}
	return page, nil
}

// Reset implements Store.
func (s *Memory) Reset(ctx context.Context, app *uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked(app)
	return nil
}

func (s *Memory) resetLocked(app *uuid.UUID) {
	if app != nil {
		delete(s.groups, *app)
		return
	}
	clear(s.groups)
	s.connectors = memoryGroup{index: make(map[uuid.UUID]uint32)}
	s.garbage, s.live = 0, 0
}

// Applications implements Store.
func (s *Memory) Applications(ctx context.Context) ([]Application, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	type first struct {
		seq uint64
		app Application
	}
	groups := make([]first, 0, len(s.groups))
	for id, g := range s.groups {
		groups = append(groups, first{g.chunks[0][0].seq, Application{ID: id, Members: len(g.index)}})
	}
	// In the order the groups got their first member still there (or gone
	// since, but not compacted away): a dashboard's rows stay where they are.
	slices.SortFunc(groups, func(a, b first) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Application, len(groups))
	for i, g := range groups {
		out[i] = g.app
	}
	return out, nil
}

// Members implements Store.
func (s *Memory) Members() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, g := range s.groups {
		n += len(g.index)
	}
	return n
}

// Add is one add of AddAll: a connector with its properties or, with
// Reference, a known connector by its id (Member.ID); with Register, the
// connector is registered in no group (App is not used).
type Add struct {
	App       uuid.UUID
	Member    Member
	Reference bool
	Register  bool
}

// AddAll makes the adds in order and returns how each went (nil,
// ErrDuplicateMember, ErrConnectorNotFound, …). A Durable commits them many
// to a transaction, as it does concurrent writes, rather than one fsync each;
// any other store gets them one by one. It stops early only when ctx ends,
// and then the adds not made have ctx's error.
func AddAll(ctx context.Context, s Store, adds []Add) []error {
	if d, ok := s.(*Durable); ok {
		return d.addAll(ctx, adds)
	}
	errs := make([]error, len(adds))
	for i, a := range adds {
		if errs[i] = ctx.Err(); errs[i] != nil {
			continue
		}
		switch {
		case a.Register:
			errs[i] = s.Register(ctx, a.Member)
		case a.Reference:
			_, errs[i] = s.AddReference(ctx, a.App, a.Member.ID)
		default:
			errs[i] = s.Add(ctx, a.App, a.Member)
		}
	}
	return errs
}
