package server

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// ErrDuplicateMember is returned by MemberStore.Add when the connector is
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

// MemberStore keeps the members of every application's connector group. Every
// application starts with an empty group. Implementations are safe for
// concurrent use.
type MemberStore interface {
	// Add appends m to the group of app, or returns ErrDuplicateMember.
	Add(ctx context.Context, app uuid.UUID, m Member) error
	// Get returns the member id of the group of app, or ErrMemberNotFound.
	Get(ctx context.Context, app, id uuid.UUID) (Member, error)
	// Remove deletes the member id from the group of app, or returns ErrMemberNotFound.
	Remove(ctx context.Context, app, id uuid.UUID) error
	// List returns up to limit members of the group of app that were added
	// after the position after, in insertion order.
	List(ctx context.Context, app uuid.UUID, after Cursor, limit int) (Page, error)
}

// MemoryStore is a MemberStore held in memory. Each group is a slice in
// insertion order plus an index by id; removal leaves a tombstone that a later
// compaction drops, so a page is found by binary search and costs in
// proportion to its size, not to the size of the group.
//
// The entries hold no pointers: a member's strings live in one byte slice per
// group and the entry keeps their offsets, and its status is a small number.
// The garbage collector then never scans the members, which keeps a store of
// a million members from slowing every request (measured under load).
type MemoryStore struct {
	mu       sync.RWMutex
	seq      uint64 // the last Cursor handed out, across all groups
	groups   map[uuid.UUID]*memoryGroup
	statuses []generated.ConnectorStatus          // the distinct statuses seen, by number
	statusNo map[generated.ConnectorStatus]uint32 // and their numbers
}

type memoryGroup struct {
	entries []memoryEntry     // ascending seq; removed entries are tombstones
	index   map[uuid.UUID]int // id -> position in entries, live entries only
	data    []byte            // the entries' strings
}

type memoryEntry struct {
	seq              uint64
	id               uuid.UUID
	ipOff, ipLen     uint32
	nameOff, nameLen uint32
	status           uint32
	removed          bool
}

// compactAt is the smallest group whose tombstones are worth compacting away.
const compactAt = 64

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{groups: make(map[uuid.UUID]*memoryGroup), statusNo: make(map[generated.ConnectorStatus]uint32)}
}

// Add implements MemberStore.
func (s *MemoryStore) Add(ctx context.Context, app uuid.UUID, m Member) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.containsLocked(app, m.ID) {
		return ErrDuplicateMember
	}
	s.seq++
	s.insertLocked(app, s.seq, m)
	return nil
}

func (s *MemoryStore) containsLocked(app, id uuid.UUID) bool {
	g := s.groups[app]
	if g == nil {
		return false
	}
	_, ok := g.index[id]
	return ok
}

// insertLocked appends m to the group of app at position seq, which must be
// above every seq the group holds.
func (s *MemoryStore) insertLocked(app uuid.UUID, seq uint64, m Member) {
	g := s.groups[app]
	if g == nil {
		g = &memoryGroup{index: make(map[uuid.UUID]int)}
		s.groups[app] = g
	}
	status, ok := s.statusNo[m.Status]
	if !ok {
		status = uint32(len(s.statuses))
		s.statuses = append(s.statuses, m.Status)
		s.statusNo[m.Status] = status
	}
	e := memoryEntry{seq: seq, id: m.ID, status: status}
	e.ipOff, e.ipLen = g.appendString(m.ExternalIP)
	e.nameOff, e.nameLen = g.appendString(m.MachineName)
	g.index[m.ID] = len(g.entries)
	g.entries = append(g.entries, e)
	if seq > s.seq {
		s.seq = seq
	}
}

func (g *memoryGroup) appendString(v string) (off, n uint32) {
	off = uint32(len(g.data))
	g.data = append(g.data, v...)
	return off, uint32(len(v))
}

// memberLocked rebuilds the member of entry e.
func (s *MemoryStore) memberLocked(g *memoryGroup, e *memoryEntry) Member {
	return Member{
		ID:          e.id,
		ExternalIP:  string(g.data[e.ipOff : e.ipOff+e.ipLen]),
		MachineName: string(g.data[e.nameOff : e.nameOff+e.nameLen]),
		Status:      s.statuses[e.status],
	}
}

// Get implements MemberStore.
func (s *MemoryStore) Get(ctx context.Context, app, id uuid.UUID) (Member, error) {
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
	return s.memberLocked(g, &g.entries[i]), nil
}

// Remove implements MemberStore.
func (s *MemoryStore) Remove(ctx context.Context, app, id uuid.UUID) error {
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
func (s *MemoryStore) seqLocked(app, id uuid.UUID) (uint64, bool) {
	g := s.groups[app]
	if g == nil {
		return 0, false
	}
	i, ok := g.index[id]
	if !ok {
		return 0, false
	}
	return g.entries[i].seq, true
}

// deleteLocked removes member id, which must be in the group of app.
func (s *MemoryStore) deleteLocked(app, id uuid.UUID) {
	g := s.groups[app]
	i := g.index[id]
	delete(g.index, id)
	if len(g.index) == 0 {
		delete(s.groups, app) // an empty group is the same as no group
		return
	}
	g.entries[i].removed = true
	if len(g.entries) >= compactAt && len(g.index) < len(g.entries)/2 {
		g.compact()
	}
}

// compact drops the tombstones and their strings; amortised over the
// removals that made them.
func (g *memoryGroup) compact() {
	live := make([]memoryEntry, 0, len(g.index))
	data := make([]byte, 0, len(g.data)/2)
	for _, e := range g.entries {
		if e.removed {
			continue
		}
		ip := g.data[e.ipOff : e.ipOff+e.ipLen]
		name := g.data[e.nameOff : e.nameOff+e.nameLen]
		e.ipOff = uint32(len(data))
		data = append(data, ip...)
		e.nameOff = uint32(len(data))
		data = append(data, name...)
		g.index[e.id] = len(live)
		live = append(live, e)
	}
	g.entries, g.data = live, data
}

// List implements MemberStore.
func (s *MemoryStore) List(ctx context.Context, app uuid.UUID, after Cursor, limit int) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[app]
	if g == nil || limit <= 0 {
		return Page{}, nil
	}
	start := sort.Search(len(g.entries), func(i int) bool { return g.entries[i].seq > uint64(after) })
	page := Page{Members: make([]Member, 0, min(limit, len(g.index)))}
	for i := start; i < len(g.entries); i++ {
		e := &g.entries[i]
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
