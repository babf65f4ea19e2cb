package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/reqcheck"
)

// ErrClosed is returned by a Durable's writes after Close.
var ErrClosed = errors.New("the member store is closed")

// stateFormat marks a file as this server's state; a file without it is
// refused rather than written over. Format 2 keeps the connectors in a
// bucket of their own, and a member is a reference; format 1, written before
// connectors were entities, kept each member's properties with it and is
// upgraded when opened (legacyStateFormat).
const (
	stateFormat       = "connector-mock-state/2"
	legacyStateFormat = "connector-mock-state/1"
)

var (
	bucketMeta       = []byte("meta")
	bucketMembers    = []byte("members")
	bucketConnectors = []byte("connectors")
	keyFormat        = []byte("format")
)

// maxCommitBatch bounds how many writes share one transaction and one fsync.
const maxCommitBatch = 512

// Durable is a Store whose every acknowledged change is on disk,
// in a bbolt file, before Add or Remove returns. Reads are served from an
// in-memory copy (a Memory) loaded at Open.
//
// Writes go through one committer goroutine that takes every write waiting
// and commits them in one transaction, with one fsync (group commit): the
// more clients write at once, the more each fsync carries. A change writes
// one key, so the disk work per change does not grow with the group.
//
// A member's key is the group's id followed by the member's position in
// insertion order, so the file keeps the order the listing and the
// $skiptoken rely on; its value names the connector. A connector's key is its
// position in the registry, and its value holds its id and properties.
type Durable struct {
	mem    *Memory
	db     *bolt.DB
	path   string
	writes chan *durableWrite
	done   chan struct{}

	mu     sync.RWMutex // guards closed; writers hold it for reading while they enqueue
	closed bool

	broken    chan struct{} // closed when the file failed under the committer
	brokenErr error         // why, set before broken is closed
}

type durableWrite struct {
	app       uuid.UUID
	member    Member // for an add; for a reference or a removal, only its ID (a reference's answer fills the rest)
	reference bool   // an add of a known connector by its id
	register  bool   // a connector registered in no group
	remove    bool
	reset     bool       // empty the group of target, or all groups when it is nil
	target    *uuid.UUID // for a reset
	result    chan error
}

// storedConnector is a connector as the file holds it; format 1 held every
// member so, without seq.
type storedConnector struct {
	ID          uuid.UUID `json:"id"`
	ExternalIP  string    `json:"externalIp"`
	MachineName string    `json:"machineName"`
	Status      string    `json:"status"`
	Seq         uint64    `json:"seq,omitempty"` // its position in the registry
}

// storedReference is a member as format 2 holds it.
type storedReference struct {
	ID uuid.UUID `json:"id"`
}

// StateFileError says why a state file cannot be used. The file is left as it was.
type StateFileError struct {
	Path   string
	Reason string
	Err    error
}

func (e *StateFileError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("state file %s: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("state file %s: %s", e.Path, e.Reason)
}

func (e *StateFileError) Unwrap() error { return e.Err }

// OpenDurable opens the state file at path, creating it when it does not
// exist. A file that exists but cannot be read as this server's state
// (truncated, corrupt, another format, locked by another process) is an
// *StateFileError, and the file is not modified: it is checked read-only first.
func OpenDurable(path string) (*Durable, error) {
	mem := NewMemory()
	if info, err := os.Stat(path); err == nil {
		switch {
		case info.IsDir():
			return nil, &StateFileError{Path: path, Reason: "is a directory; name a file (it is created if missing)"}
		case !info.Mode().IsRegular():
			return nil, &StateFileError{Path: path, Reason: fmt.Sprintf("is not a regular file but a %s", fileKind(info.Mode()))}
		}
		if err := loadStateFile(path, mem); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, &StateFileError{Path: path, Reason: "cannot be read", Err: err}
	}
	// NoFreelistSync, as etcd runs bbolt: the freelist is not written on every
	// commit but rebuilt at open, so a commit writes only the changed pages.
	db, err := openWritable(path)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err = tx.CreateBucketIfNotExists(bucketMembers); err != nil {
			return err
		}
		connectors, err := tx.CreateBucketIfNotExists(bucketConnectors)
		if err != nil {
			return err
		}
		if string(meta.Get(keyFormat)) == stateFormat {
			return nil
		}
		// A new file, or format 1: the connectors as loaded become the bucket.
		if err := mem.eachConnector(func(seq uint64, m Member) error {
			v, err := encodeConnector(m, seq)
			if err != nil {
				return err
			}
			return connectors.Put(connectorKey(seq), v)
		}); err != nil {
			return err
		}
		return meta.Put(keyFormat, []byte(stateFormat))
	})
	if err != nil {
		_ = db.Close()
		return nil, &StateFileError{Path: path, Reason: "cannot be initialised", Err: err}
	}
	s := &Durable{mem: mem, db: db, path: path, writes: make(chan *durableWrite, maxCommitBatch), done: make(chan struct{}),
		broken: make(chan struct{})}
	go s.commitLoop()
	return s, nil
}

// openWritable opens the file for writing. Rebuilding the freelist, bbolt
// panics in this goroutine on a page it finds inconsistent (the pages
// themselves loadStateFile has read already): that becomes the error.
func openWritable(path string) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, &StateFileError{Path: path, Reason: "is corrupt", Err: fmt.Errorf("%v", r)}
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

// fileKind names what a path that is not a regular file is.
func fileKind(mode os.FileMode) string {
	switch {
	case mode&os.ModeCharDevice != 0:
		return "character device"
	case mode&os.ModeDevice != 0:
		return "device"
	case mode&os.ModeNamedPipe != 0:
		return "named pipe"
	case mode&os.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return &StateFileError{Path: path, Reason: "is in use by another process", Err: err}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return &StateFileError{Path: path, Reason: "is not a connector-mock state file, or is corrupt", Err: err}
	case strings.Contains(err.Error(), "file size too small"):
		return &StateFileError{Path: path, Reason: "is too small to be a state file (truncated, or another format)", Err: err}
	}
	return &StateFileError{Path: path, Reason: "cannot be opened", Err: err}
}

// loadStateFile checks the file read-only and loads its members into mem.
// bbolt reads the file through mmap, so a truncated or corrupt file can fault
// on a page past its end: the check runs with faults turned into panics, and
// a panic into an error, rather than crash the process.
func loadStateFile(path string, mem *Memory) (err error) {
	info, err := os.Stat(path)
	if err != nil {
		return &StateFileError{Path: path, Reason: "cannot be read", Err: err}
	}
	if info.Size() == 0 {
		return &StateFileError{Path: path, Reason: "is empty (truncated?)"}
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &StateFileError{Path: path, Reason: "is corrupt", Err: fmt.Errorf("%v", r)}
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return openError(path, err)
	}
	defer db.Close()
	// bbolt grows its file a whole number of pages at a time.
	if pageSize := int64(db.Info().PageSize); pageSize <= 0 || info.Size()%pageSize != 0 {
		return &StateFileError{Path: path, Reason: fmt.Sprintf("is truncated: %d bytes is not a whole number of %d-byte pages", info.Size(), pageSize)}
	}
	return db.View(func(tx *bolt.Tx) error {
		if tx.Size() > info.Size() {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("is truncated: %d bytes, its pages need %d", info.Size(), tx.Size())}
		}
		meta := tx.Bucket(bucketMeta)
		var format string
		if meta != nil {
			format = string(meta.Get(keyFormat))
		}
		if format != stateFormat && format != legacyStateFormat {
			return &StateFileError{Path: path, Reason: "is a bbolt file but not a " + stateFormat + " state file"}
		}
		if err := walk(tx); err != nil {
			return &StateFileError{Path: path, Reason: "is corrupt", Err: err}
		}
		members := tx.Bucket(bucketMembers)
		if members == nil {
			return &StateFileError{Path: path, Reason: "has no members bucket"}
		}
		if format == legacyStateFormat {
			return loadLegacyMembers(path, members, mem)
		}
		connectors := tx.Bucket(bucketConnectors)
		if connectors == nil {
			return &StateFileError{Path: path, Reason: "has no connectors bucket"}
		}
		if err := loadConnectors(path, connectors, mem); err != nil {
			return err
		}
		return members.ForEach(func(k, v []byte) error {
			app, seq, err := decodeMemberKey(k)
			var ref storedReference
			if err == nil {
				err = json.Unmarshal(v, &ref)
			}
			if err != nil {
				return &StateFileError{Path: path, Reason: "has a member it cannot read", Err: err}
			}
			switch err := mem.loadMember(app, seq, ref.ID); {
			case errors.Is(err, ErrConnectorNotFound):
				return &StateFileError{Path: path, Reason: fmt.Sprintf("has member %s of %s, a connector it does not hold", ref.ID, app)}
			case errors.Is(err, ErrDuplicateMember):
				return &StateFileError{Path: path, Reason: fmt.Sprintf("holds member %s of %s twice", ref.ID, app)}
			case err != nil:
				return &StateFileError{Path: path, Reason: fmt.Sprintf("has member %s of %s", ref.ID, app), Err: err}
			}
			return nil
		})
	})
}

// walk reads every key of every bucket, nested ones too, in this goroutine,
// where loadStateFile recovers what a corrupt page panics with. (tx.Check
// cannot be used: it loads the freelist, which bbolt rebuilds for a file
// written with NoFreelistSync by reading the pages in a goroutine of its own,
// where a corrupt page's panic ends the process.)
func walk(tx *bolt.Tx) error {
	return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walkBucket(b) })
}

func walkBucket(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if nested := b.Bucket(k); nested != nil {
				return walkBucket(nested)
			}
		}
		return nil
	})
}

// loadConnectors registers the connectors of a format-2 file, in the order
// they became known.
func loadConnectors(path string, b *bolt.Bucket, mem *Memory) error {
	var all []storedConnector
	if err := b.ForEach(func(k, v []byte) error {
		var c storedConnector
		if err := json.Unmarshal(v, &c); err != nil || len(k) != 8 || binary.BigEndian.Uint64(k) != c.Seq || c.Seq == 0 {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("has a connector it cannot read (key %x)", k), Err: err}
		}
		all = append(all, c)
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b storedConnector) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, c := range all {
		if err := c.check(); err != nil {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("has connector %s, which breaks the API's rules", c.ID), Err: err}
		}
		if err := mem.loadConnector(c.Seq, c.member()); err != nil {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("holds connector %s twice", c.ID)}
		}
	}
	return nil
}

// loadLegacyMembers loads a format-1 file, whose members each carried the
// connector's properties: in the order they were added, across groups, so
// that a connector becomes known where it was first added and, where groups
// held different properties under one id, the most recently added win.
func loadLegacyMembers(path string, b *bolt.Bucket, mem *Memory) error {
	type legacy struct {
		app uuid.UUID
		seq uint64
		c   storedConnector
	}
	var all []legacy
	if err := b.ForEach(func(k, v []byte) error {
		app, seq, err := decodeMemberKey(k)
		var c storedConnector
		if err == nil {
			err = json.Unmarshal(v, &c)
		}
		if err != nil {
			return &StateFileError{Path: path, Reason: "has a member it cannot read", Err: err}
		}
		all = append(all, legacy{app, seq, c})
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b legacy) int { return cmp.Compare(a.seq, b.seq) })
	for _, l := range all {
		if err := l.c.check(); err != nil {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("has member %s of %s, which breaks the API's rules", l.c.ID, l.app), Err: err}
		}
		mem.loadProperties(l.seq, l.c.member())
		if err := mem.loadMember(l.app, l.seq, l.c.ID); err != nil {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("holds member %s of %s twice", l.c.ID, l.app)}
		}
	}
	return nil
}

// addOperation is the generated check of the add, which a connector read
// back from a state file passes as a POST of it would.
var addOperation = sync.OnceValues(func() (reqcheck.Operation, error) {
	for _, op := range validation.Operations() {
		if op.ID == "addConnectorGroupMember" {
			return op, nil
		}
	}
	return reqcheck.Operation{}, errors.New("the spec has no addConnectorGroupMember operation")
})

// check checks c as the API checks the body of an add: a file edited by
// hand, or written by a build with other rules, cannot serve what the API
// would refuse.
func (c storedConnector) check() error {
	op, err := addOperation()
	if err != nil {
		return err
	}
	m := c.member()
	body, err := json.Marshal(generated.Connector{ID: &m.ID, ExternalIP: m.ExternalIP, MachineName: m.MachineName, Status: m.Status})
	if err != nil {
		return err
	}
	var vs reqcheck.Violations
	in := reqcheck.Input{Path: anyGroup{}, Header: map[string][]string{}, Body: body}
	op.Check(&in, &vs)
	if vs.Len() == 0 {
		return nil
	}
	var rules []string
	for _, v := range vs.List() {
		rules = append(rules, strings.TrimPrefix(v.Target+": ", ": ")+v.Message)
	}
	return errors.New(strings.Join(rules, "; "))
}

// anyGroup is the path of an add to some group, for check.
type anyGroup struct{}

// PathParam implements reqcheck.PathParams.
func (anyGroup) PathParam(string) string { return "00000000-0000-4000-8000-000000000000" }

func (c storedConnector) member() Member {
	return Member{ID: c.ID, ExternalIP: c.ExternalIP, MachineName: c.MachineName, Status: generated.ConnectorStatus(c.Status)}
}

func memberKey(app uuid.UUID, seq uint64) []byte {
	k := make([]byte, 24)
	copy(k, app[:])
	binary.BigEndian.PutUint64(k[16:], seq)
	return k
}

// connectorKey is a connector's position in the registry: keys in the order
// connectors become known, so that a commit appends to the bucket's last
// page rather than dirtying pages all over it (keyed by their random ids,
// durable adds ran at 0.26x of memory in make bench-durable, 0.39x before).
func connectorKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

func decodeMemberKey(k []byte) (uuid.UUID, uint64, error) {
	if len(k) != 24 {
		return uuid.UUID{}, 0, fmt.Errorf("key of %d bytes", len(k))
	}
	app, _ := uuid.FromBytes(k[:16])
	return app, binary.BigEndian.Uint64(k[16:]), nil
}

func encodeConnector(m Member, seq uint64) ([]byte, error) {
	return json.Marshal(storedConnector{ID: m.ID, ExternalIP: m.ExternalIP, MachineName: m.MachineName, Status: string(m.Status), Seq: seq})
}

// Add implements Store: it returns once the member and the connector are on disk.
func (s *Durable) Add(ctx context.Context, app uuid.UUID, m Member) error {
	return s.write(ctx, &durableWrite{app: app, member: m})
}

// Register implements Store: it returns once the connector is on disk.
func (s *Durable) Register(ctx context.Context, m Member) error {
	return s.write(ctx, &durableWrite{member: m, register: true})
}

// AddReference implements Store: it returns once the member is on disk.
func (s *Durable) AddReference(ctx context.Context, app, id uuid.UUID) (Member, error) {
	w := &durableWrite{app: app, member: Member{ID: id}, reference: true}
	if err := s.write(ctx, w); err != nil {
		return Member{}, err
	}
	return w.member, nil
}

// Remove implements Store: it returns once the removal is on disk.
func (s *Durable) Remove(ctx context.Context, app, id uuid.UUID) error {
	return s.write(ctx, &durableWrite{app: app, member: Member{ID: id}, remove: true})
}

// Reset implements Store: it returns once the file is emptied too.
func (s *Durable) Reset(ctx context.Context, app *uuid.UUID) error {
	return s.write(ctx, &durableWrite{reset: true, target: app})
}

// Applications implements Store.
func (s *Durable) Applications(ctx context.Context) ([]Application, error) {
	return s.mem.Applications(ctx)
}

// Members implements Store.
func (s *Durable) Members() int { return s.mem.Members() }

// Get implements Store.
func (s *Durable) Get(ctx context.Context, app, id uuid.UUID) (Member, error) {
	return s.mem.Get(ctx, app, id)
}

// List implements Store.
func (s *Durable) List(ctx context.Context, app uuid.UUID, after Cursor, limit int) (Page, error) {
	return s.mem.List(ctx, app, after, limit)
}

// Connector implements Store.
func (s *Durable) Connector(ctx context.Context, id uuid.UUID) (Member, error) {
	return s.mem.Connector(ctx, id)
}

// Connectors implements Store.
func (s *Durable) Connectors(ctx context.Context, after Cursor, limit int) (Page, error) {
	return s.mem.Connectors(ctx, after, limit)
}

// MemberOf implements Store.
func (s *Durable) MemberOf(ctx context.Context, id uuid.UUID, after Cursor, limit int) (GroupPage, error) {
	return s.mem.MemberOf(ctx, id, after, limit)
}

// addAll hands the adds to the committer without waiting for each, so that
// they share transactions and fsyncs (the committer takes up to
// maxCommitBatch at a time, in order), then waits for every verdict.
func (s *Durable) addAll(ctx context.Context, adds []Add) []error {
	errs := make([]error, len(adds))
	writes := make([]*durableWrite, len(adds))
	s.mu.RLock()
	for i, a := range adds {
		if err := ctx.Err(); err != nil || s.closed {
			if err == nil {
				err = ErrClosed
			}
			errs[i] = err
			continue
		}
		w := &durableWrite{app: a.App, member: a.Member, reference: a.Reference, register: a.Register, result: make(chan error, 1)}
		if a.Reference {
			w.member = Member{ID: a.Member.ID}
		}
		writes[i] = w
		s.writes <- w
	}
	s.mu.RUnlock()
	for i, w := range writes {
		if w != nil {
			errs[i] = <-w.result
		}
	}
	return errs
}

// write hands w to the committer and waits for its verdict. Once handed over
// a write is not abandoned when ctx ends: its outcome is what the caller must
// learn, or an acknowledged-looking failure could hide a stored change.
func (s *Durable) write(ctx context.Context, w *durableWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.result = make(chan error, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	if err := s.Err(); err != nil {
		s.mu.RUnlock()
		return err
	}
	s.writes <- w
	s.mu.RUnlock()
	return <-w.result
}

// commitLoop is the only writer: it batches what is waiting into one
// transaction, so concurrent writers share an fsync.
//
// bbolt reads the file through mmap: a file cut short under the running mock
// faults on the next page it reads (SIGBUS). The committer turns that fault
// into a panic (SetPanicOnFault is per goroutine), and the panic into the
// store's failure: every write from then on fails with it, and Broken tells
// the command to stop.
func (s *Durable) commitLoop() {
	defer close(s.done)
	debug.SetPanicOnFault(true)
	batch := make([]*durableWrite, 0, maxCommitBatch)
	for first := range s.writes {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxCommitBatch {
			select {
			case w, ok := <-s.writes:
				if !ok {
					break fill
				}
				batch = append(batch, w)
			default:
				break fill
			}
		}
		s.commitOrBreak(batch)
	}
}

// commitOrBreak commits a batch, or answers it with the store's failure.
//
// The file's size is looked at first: once a page bbolt has mapped is cut
// off, touching it faults, and a transaction that faults is rolled back by
// bbolt, which then rebuilds its freelist by reading every page in a
// goroutine of its own, where the fault ends the process. So a file shorter
// than its pages is a failure before bbolt reads anything; a fault that
// still comes (the file cut during the commit) is recovered here.
func (s *Durable) commitOrBreak(batch []*durableWrite) {
	if err := s.Err(); err != nil {
		answerAll(batch, err)
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.breakWith(batch, "failed under the running mock (cut short, or damaged?)", fmt.Errorf("%v", r))
		}
	}()
	var size int64
	if err := s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		s.breakWith(batch, "cannot be read", err)
		return
	}
	if info, err := os.Stat(s.path); err != nil || info.Size() < size {
		reason := "was removed under the running mock"
		if err == nil {
			reason = fmt.Sprintf("was cut short under the running mock: %d bytes, its pages need %d", info.Size(), size)
		}
		s.breakWith(batch, reason, err)
		return
	}
	s.commit(batch)
}

// breakWith marks the store failed and answers batch with the failure.
func (s *Durable) breakWith(batch []*durableWrite, reason string, err error) {
	s.brokenErr = &StateFileError{Path: s.path, Reason: reason, Err: err}
	close(s.broken)
	answerAll(batch, s.brokenErr)
}

// answerAll gives err to every write of batch not answered yet.
func answerAll(batch []*durableWrite, err error) {
	for _, w := range batch {
		select {
		case w.result <- err:
		default: // answered already
		}
	}
}

// Broken is closed when the file failed under the running mock; Err says why.
func (s *Durable) Broken() <-chan struct{} { return s.broken }

// Err is why the file failed under the running mock, or nil.
func (s *Durable) Err() error {
	select {
	case <-s.broken:
		return s.brokenErr
	default:
		return nil
	}
}

// planned is one write of a batch that passed its checks.
type planned struct {
	w            *durableWrite
	seq          uint64
	registration uint64 // the position of the connector an add writes
}

// commit writes a batch: the writes between resets together, each reset on
// its own, in the order they came.
func (s *Durable) commit(batch []*durableWrite) {
	for len(batch) > 0 {
		i := 0
		for i < len(batch) && !batch[i].reset {
			i++
		}
		if i > 0 {
			s.commitChanges(batch[:i])
		}
		if i < len(batch) {
			s.commitReset(batch[i])
			i++
		}
		batch = batch[i:]
	}
}

// commitReset empties the group of w.target, or every group, on disk and
// then in memory.
func (s *Durable) commitReset(w *durableWrite) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if w.target == nil {
			for _, name := range [...][]byte{bucketMembers, bucketConnectors} {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return nil
		}
		c := tx.Bucket(bucketMembers).Cursor()
		prefix := w.target[:]
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.result <- fmt.Errorf("resetting the state file %s: %w", s.path, err)
		return
	}
	s.mem.apply([]memberChange{{reset: true, target: w.target}})
	w.result <- nil
}

// commitChanges checks each write against the state as the batch leaves it, writes
// the valid ones in one transaction and, once that is on disk, applies them
// to memory and answers every writer. The committer is the only writer of
// s.mem, so what it reads of it stays true until it applies the batch.
func (s *Durable) commitChanges(batch []*durableWrite) {
	type key struct{ app, id uuid.UUID }
	overlay := map[key]uint64{}          // members this batch adds (seq) or removes (0)
	registered := map[uuid.UUID]uint64{} // connectors this batch registers, and their positions
	var plan []planned
	next := s.mem.lastPosition()
	for _, w := range batch {
		k := key{w.app, w.member.ID}
		seq, inBatch := overlay[k]
		if !inBatch {
			seq, _ = s.mem.position(w.app, w.member.ID)
		}
		registration, known := registered[w.member.ID]
		if !known {
			registration, known = s.mem.registration(w.member.ID)
		}
		switch {
		case w.register:
			next++
			if !known {
				registration = next
				registered[w.member.ID] = next
			}
			plan = append(plan, planned{w: w, seq: next, registration: registration})
		case w.remove && seq == 0:
			w.result <- ErrMemberNotFound
		case w.remove:
			overlay[k] = 0
			plan = append(plan, planned{w: w, seq: seq})
		case w.reference && !known:
			w.result <- ErrConnectorNotFound
		case seq != 0:
			w.result <- ErrDuplicateMember
		default:
			next++
			overlay[k] = next
			if !known {
				registration = next
				registered[w.member.ID] = next
			}
			plan = append(plan, planned{w: w, seq: next, registration: registration})
		}
	}
	if len(plan) == 0 {
		return
	}

	err := s.db.Update(func(tx *bolt.Tx) error {
		members, connectors := tx.Bucket(bucketMembers), tx.Bucket(bucketConnectors)
		for _, p := range plan {
			k := memberKey(p.w.app, p.seq)
			if p.w.remove {
				if err := members.Delete(k); err != nil {
					return err
				}
				continue
			}
			if !p.w.reference {
				v, err := encodeConnector(p.w.member, p.registration)
				if err != nil {
					return err
				}
				if err := connectors.Put(connectorKey(p.registration), v); err != nil {
					return err
				}
			}
			if p.w.register {
				continue
			}
			v, err := json.Marshal(storedReference{ID: p.w.member.ID})
			if err != nil {
				return err
			}
			if err := members.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("writing the state file %s: %w", s.path, err)
		for _, p := range plan {
			p.w.result <- err
		}
		return
	}
	changes := make([]memberChange, len(plan))
	for i, p := range plan {
		changes[i] = memberChange{app: p.w.app, seq: p.seq, member: p.w.member, reference: p.w.reference, register: p.w.register, remove: p.w.remove}
	}
	s.mem.apply(changes)
	for _, p := range plan {
		if p.w.reference {
			p.w.member, _ = s.mem.Connector(context.Background(), p.w.member.ID)
		}
		p.w.result <- nil
	}
}

// Close waits for the writes already handed over, then closes the file.
// Writes after Close fail with ErrClosed.
func (s *Durable) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.writes)
	s.mu.Unlock()
	<-s.done
	if err := s.Err(); err != nil {
		// The failed transaction still holds bbolt's lock: closing would wait for ever.
		return err
	}
	return s.db.Close()
}
