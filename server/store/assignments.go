package store

import (
	"context"
	"sort"

	"github.com/google/uuid"
)

// ApplicationPage is one page of the applications assigned to a group, in
// the order they were assigned.
type ApplicationPage struct {
	Applications []uuid.UUID
	// Next resumes after the last application of this page, when More is true.
	Next Cursor
	// More tells whether applications follow this page.
	More bool
}

// assignments are the applications assigned to connector groups: each
// application's group, and each group's applications in the order they were
// assigned (a list as a group's members are).
type assignments struct {
	groupOf map[uuid.UUID]uuid.UUID // application -> its group
	apps    map[uuid.UUID]*memoryGroup
}

func newAssignments() assignments {
	return assignments{groupOf: make(map[uuid.UUID]uuid.UUID), apps: make(map[uuid.UUID]*memoryGroup)}
}

// decideAssignLocked decides OpAssign: application op.Member.ID to group
// op.Group, which must exist; an application is in one group, so assigning
// it elsewhere moves it; assigning it where it is changes nothing.
func (s *Memory) decideAssignLocked(op *Op, changes []change) ([]change, error) {
	app := op.Member.ID
	if !s.groupReg.has(op.Group) {
		return changes, ErrGroupNotFound
	}
	current, in := s.assigned.groupOf[app]
	if in && current == op.Group {
		return changes, nil
	}
	if in {
		g := s.assigned.apps[current]
		i, _ := g.find(app)
		changes = append(changes, s.applyLocked(change{kind: unassign, seq: g.at(int(i)).seq, group: current, id: app}))
	}
	s.seq++
	return append(changes, s.applyLocked(change{kind: assign, seq: s.seq, group: op.Group, id: app})), nil
}

// applyAssignmentLocked makes an assign or unassign change.
func (s *Memory) applyAssignmentLocked(c change) {
	a := &s.assigned
	switch c.kind {
	case assign:
		g := a.apps[c.group]
		if g == nil {
			g = &memoryGroup{index: make(map[uuid.UUID]uint32)}
			a.apps[c.group] = g
		}
		g.join(c.id, c.seq)
		a.groupOf[c.id] = c.group
	case unassign:
		delete(a.groupOf, c.id)
		if a.apps[c.group].remove(c.id) {
			delete(a.apps, c.group)
		}
	}
}

// hasApplicationsLocked tells whether applications are assigned to group.
func (s *Memory) hasApplicationsLocked(group uuid.UUID) bool { return s.assigned.apps[group] != nil }

// ApplicationGroup is the connector group of application app: the one it
// is assigned to, or the group with its own id (made on its first add at
// the seed page's path).
func (s *Memory) ApplicationGroup(ctx context.Context, app uuid.UUID) (uuid.UUID, error) {
	if err := ctx.Err(); err != nil {
		return uuid.UUID{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applicationGroupLocked(app), nil
}

func (s *Memory) applicationGroupLocked(app uuid.UUID) uuid.UUID {
	if g, ok := s.assigned.groupOf[app]; ok {
		return g
	}
	return app
}

// GroupApplications returns up to limit applications assigned to group
// after the position after, in the order they were assigned, or
// ErrGroupNotFound.
func (s *Memory) GroupApplications(ctx context.Context, group uuid.UUID, after Cursor, limit int) (ApplicationPage, error) {
	var page ApplicationPage
	err := s.ScanApplications(ctx, group, after, func(at Cursor, app uuid.UUID) bool {
		if len(page.Applications) == limit {
			page.More = true
			return false
		}
		page.Applications = append(page.Applications, app)
		page.Next = at
		return true
	})
	if err != nil {
		return ApplicationPage{}, err
	}
	return page, nil
}

// ScanApplications calls fn with each application assigned to group after
// the position after, in the order they were assigned, and where it is,
// until fn returns false; or it returns ErrGroupNotFound. fn runs under the
// store's read lock: it must not call the store.
func (s *Memory) ScanApplications(ctx context.Context, group uuid.UUID, after Cursor, fn func(Cursor, uuid.UUID) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.groupReg.has(group) {
		return ErrGroupNotFound
	}
	g := s.assigned.apps[group]
	if g == nil {
		return nil
	}
	start := max(sort.Search(g.n, func(i int) bool { return g.at(i).seq > uint64(after) }), g.head())
	for i := start; i < g.n; i++ {
		e := g.at(i)
		if !e.removed && !fn(Cursor(e.seq), e.id) {
			return nil
		}
	}
	return nil
}
