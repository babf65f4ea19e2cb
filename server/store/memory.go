// Package store keeps the members of every application's connector group:
// in memory (Memory), or in memory and in a bbolt file (Durable). It knows
// nothing of HTTP.
package store

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// ErrDuplicateMember is returned by Store.Add when the connector is
// already a member of the application's connector group.
var ErrDuplicateMember = errors.New("connector is already a member")

// ErrMemberNotFound is returned when the connector is not a member of the
// application's connector group.
var ErrMemberNotFound = errors.New("connector is not a member")

// Member is one stored member of a connector group: the validated connector,
// with its id always set.
type Member struct {
	ID          uuid.UUID
	ExternalIP  string
	MachineName string
	Status      generated.ConnectorStatus
}

// Cursor marks a position in a group's insertion order: a page resumes after
// it. The zero Cursor is the start of the group.
type Cursor uint64

// Page is one page of a group's members, in insertion order.
type Page struct {
	Members []Member
	// Next resumes after the last member of this page; it is only meaningful
	// when More is true.
	Next Cursor
	// More tells whether members follow this page.
	More bool
}

// Store keeps the members of every application's connector group. Every
// application starts with an empty group. Implementations are safe for
// concurrent use.
type Store interface {
	// Add appends m to the group of app, or returns ErrDuplicateMember.
	Add(ctx context.Context, app uuid.UUID, m Member) error
	// Get returns the member id of the group of app, or ErrMemberNotFound.
	Get(ctx context.Context, app, id uuid.UUID) (Member, error)
	// Remove deletes the member id from the group of app, or returns ErrMemberNotFound.
	Remove(ctx context.Context, app, id uuid.UUID) error
	// List returns up to limit members of the group of app that were added
	// after the position after, in insertion order.
	List(ctx context.Context, app uuid.UUID, after Cursor, limit int) (Page, error)
	// Reset empties the group of app, or every group when app is nil.
	Reset(ctx context.Context, app *uuid.UUID) error
	// Applications lists the applications whose groups have members.
	Applications(ctx context.Context) ([]Application, error)
	// Members is how many members the store holds, in all groups.
	Members() int
}

// Application is an application whose group has members, and how many.
type Application struct {
	ID      uuid.UUID
	Members int
}

// Memory is a Store held in memory. Each group is its entries in
// insertion order plus an index by id; removal leaves a tombstone that a later
// compaction drops, so a page is found by binary search and costs in
// proportion to its size, not to the size of the group.
//
// The entries hold no pointers: a member's strings live in the group's byte
// chunks and the entry keeps where, and its status is a small number. The
// garbage collector then never scans the members, which keeps a store of a
// million members from slowing every request (measured under load).
//
// Entries and strings are kept in chunks of a fixed size once a group
// outgrows its first one, so a growing group never copies what it holds:
// doubling one slice copied ~100 MB at a million members, under the lock,
// and showed as a 125 ms p99 in `make bench`.
type Memory struct {
	mu       sync.RWMutex
	seq      uint64 // the last Cursor handed out, across all groups
	groups   map[uuid.UUID]*memoryGroup
	statuses []generated.ConnectorStatus          // the distinct statuses seen, by number
	statusNo map[generated.ConnectorStatus]uint32 // and their numbers
}

// Chunk sizes: a chunk is allocated whole once the group has filled its
// first one, which grows as an ordinary slice (most groups stay small).
const (
	entryChunk = 4096     // entries a chunk
	dataChunk  = 64 << 10 // bytes of strings a chunk, unless one member needs more
)

type memoryGroup struct {
	chunks [][]memoryEntry      // ascending seq; removed entries are tombstones
	n      int                  // entries in chunks, tombstones included
	index  map[uuid.UUID]uint32 // id -> position in chunks, live entries only (4 bytes: a smaller index misses the cache less; 2^32 entries would take some 400 GB)
	data   [][]byte             // the entries' strings
}

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
	return &Memory{groups: make(map[uuid.UUID]*memoryGroup), statusNo: make(map[generated.ConnectorStatus]uint32)}
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
	s.insertInto(g, app, s.seq, m)
	return nil
}

// memberChange is one change a Durable has written to disk and applies
// to its Memory: an add at a position, a removal, or a reset.
type memberChange struct {
	app    uuid.UUID
	seq    uint64 // the position of an add
	member Member // for a removal, only its ID
	remove bool
	reset  bool       // empty the group of target, or all groups when it is nil
	target *uuid.UUID // for a reset
}

// load adds m to the group of app at position seq, as read back from a state
// file, refusing a member the group holds already.
func (s *Memory) load(app uuid.UUID, seq uint64, m Member) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[app]; g != nil {
		if _, ok := g.index[m.ID]; ok {
			return ErrDuplicateMember
		}
	}
	s.insertLocked(app, seq, m)
	return nil
}

// position is where member id stands in the group of app, if it is there.
func (s *Memory) position(app, id uuid.UUID) (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seqLocked(app, id)
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
		default:
			s.insertLocked(c.app, c.seq, c.member)
		}
	}
}

// insertLocked appends m to the group of app at position seq, which must be
// above every seq the group holds.
func (s *Memory) insertLocked(app uuid.UUID, seq uint64, m Member) {
	s.insertInto(s.groups[app], app, seq, m)
}

// insertInto is insertLocked for a caller that has looked up the group of
// app already: g, or nil when app has none yet.
func (s *Memory) insertInto(g *memoryGroup, app uuid.UUID, seq uint64, m Member) {
	if g == nil {
		g = &memoryGroup{index: make(map[uuid.UUID]uint32)}
		s.groups[app] = g
	}
	status, ok := s.statusNo[m.Status]
	if !ok {
		status = uint32(len(s.statuses))
		s.statuses = append(s.statuses, m.Status)
		s.statusNo[m.Status] = status
	}
	e := memoryEntry{seq: seq, id: m.ID, status: status, ipLen: uint32(len(m.ExternalIP)), nameLen: uint32(len(m.MachineName))}
	e.chunk, e.off = appendStrings(g, m.ExternalIP, m.MachineName)
	g.index[m.ID] = uint32(g.n)
	g.push(e)
	if seq > s.seq {
		s.seq = seq
	}
}

// push appends e to the group's entries.
func (g *memoryGroup) push(e memoryEntry) {
	last := len(g.chunks) - 1
	if last < 0 || len(g.chunks[last]) == entryChunk {
		var chunk []memoryEntry
		if last >= 0 { // the first chunk is full: the group is big, so are its chunks
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

// memberLocked rebuilds the member of entry e.
func (s *Memory) memberLocked(g *memoryGroup, e *memoryEntry) Member {
	data := g.data[e.chunk][e.off:]
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
	i, ok := g.index[id]
	if !ok {
		return Member{}, ErrMemberNotFound
	}
	return s.memberLocked(g, g.at(int(i))), nil
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

// compact drops the tombstones and their strings; amortised over the
// removals that made them.
func (g *memoryGroup) compact() {
	old, oldData := g.chunks, g.data
	g.chunks, g.data, g.n = nil, nil, 0
	for _, chunk := range old {
		for _, e := range chunk {
			if e.removed {
				continue
			}
			data := oldData[e.chunk][e.off:]
			e.chunk, e.off = appendStrings(g, data[:e.ipLen], data[e.ipLen:e.ipLen+e.nameLen])
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
	g := s.groups[app]
	if g == nil || limit <= 0 {
		return Page{}, nil
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
		page.Members = append(page.Members, s.memberLocked(g, e))
		page.Next = Cursor(e.seq)
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
	if app == nil {
		clear(s.groups)
		return
	}
	delete(s.groups, *app)
}

// Applications implements Store.
func (s *Memory) Applications(ctx context.Context) ([]Application, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Application, 0, len(s.groups))
	for id, g := range s.groups {
		out = append(out, Application{ID: id, Members: len(g.index)})
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
