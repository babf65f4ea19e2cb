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
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// refused rather than written over. Format 4 keeps the connector groups as
// entities too (each its document, under its position); format 3, without
// them, loads with a group for every group that has members. Format 3 keeps each connector as its
// document (the generated model's JSON, every property the spec gives it)
// under its position in the registry, and a member as a reference. Older
// formats are upgraded when opened: format 2 kept four fixed properties and
// the position in the value too; format 1, written before connectors were
// entities, kept each member's properties with it.
const (
	stateFormat = "connector-mock-state/4"
	format3     = "connector-mock-state/3"
	format2     = "connector-mock-state/2"
	format1     = "connector-mock-state/1"
)

var (
	bucketMeta       = []byte("meta")
	bucketMembers    = []byte("members")
	bucketConnectors = []byte("connectors")
	bucketGroups     = []byte("groups")
	bucketAssigned   = []byte("assignments")
	keyFormat        = []byte("format")
	// keySizes holds how many connectors and members the file holds, written
	// by a clean Close with the id of its transaction: what the load sizes
	// its work by (bbolt's Stats walks every page to count them) when no
	// transaction came after it. Never trusted for more.
	keySizes = []byte("sizes")
)

// maxCommitBatch bounds how many writes share one transaction and one fsync.
const maxCommitBatch = 512

// Durable is a Store whose every acknowledged change is on disk,
// in a bbolt file, before Add or Remove returns. Reads are served from an
// in-memory copy (a Memory) loaded at Open.
//
// Writes go through one committer goroutine that takes every write waiting,
// has the Memory decide them (the store's rules live there alone), and
// commits the changes they made in one transaction, with one fsync (group
// commit): the more clients write at once, the more each fsync carries. A
// change writes one key, so the disk work per change does not grow with the
// group. Opening the file replays the changes it holds through the same
// Memory.
//
// A member's key is the group's id followed by the member's position in
// insertion order, so the file keeps the order the listing and the
// $skiptoken rely on; its value names the connector. A connector's key is its
// position in the registry, and its value is its document (with its id).
type Durable struct {
	mutations // each returns once its change is on disk
	mem       *Memory
	db        *bolt.DB
	path      string
	writes    chan *durableWrite
	done      chan struct{}

	mu     sync.RWMutex // guards closed; writers hold it for reading while they enqueue
	closed bool

	broken    chan struct{} // closed when the file failed under the committer
	brokenErr error         // why, set before broken is closed

	commitHook func(stage string) // tests: called as a commit has "decided" a batch and has "written" it
}

// durableWrite is an op handed to the committer, and its outcome.
type durableWrite struct {
	op     Op
	member Member // an add by reference: the connector it made a member
	err    error  // what the rules said of op
	result chan error
}

// legacyConnector is a connector as formats 1 and 2 held it: the four
// properties the spec then had (read into the generated model, whose JSON
// names they are) and, in format 2, its position in the registry.
type legacyConnector struct {
	generated.Connector
	Seq uint64 `json:"seq,omitempty"`
}

// storedReference is a member as formats 1 and 2 held it; format 3 holds
// the connector's id, 16 bytes.
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
	rewriteMembers := false // the file breaks the one-group rule (written before it): its members are rewritten
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
		mem.mu.Lock()
		rewriteMembers = mem.oneGroupLocked()
		mem.mu.Unlock()
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
		groups, err := tx.CreateBucketIfNotExists(bucketGroups)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketAssigned); err != nil {
			return err
		}
		if rewriteMembers {
			if err := tx.DeleteBucket(bucketMembers); err != nil {
				return err
			}
			members, err := tx.CreateBucket(bucketMembers)
			if err != nil {
				return err
			}
			if err := mem.eachMember(func(c change) error {
				return members.Put(memberKey(c.group, c.seq), c.id[:])
			}); err != nil {
				return err
			}
		}
		format := string(meta.Get(keyFormat))
		if format == stateFormat {
			return nil
		}
		// A new file, or an older format: the groups as loaded become the
		// bucket, and so do the connectors where format 3 did not write
		// them as this format does.
		if err := mem.eachGroup(func(c change) error {
			return groups.Put(connectorKey(c.seq), c.doc)
		}); err != nil {
			return err
		}
		if format != format3 {
			if err := mem.eachConnector(func(c change) error {
				return connectors.Put(connectorKey(c.seq), withID(c.id, c.doc))
			}); err != nil {
				return err
			}
		}
		return meta.Put(keyFormat, []byte(stateFormat))
	})
	if err != nil {
		_ = db.Close()
		return nil, &StateFileError{Path: path, Reason: "cannot be initialised", Err: err}
	}
	s := &Durable{mem: mem, db: db, path: path, writes: make(chan *durableWrite, maxCommitBatch), done: make(chan struct{}),
		broken: make(chan struct{})}
	s.mutations = mutations{s.write}
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
		if format != stateFormat && format != format3 && format != format2 && format != format1 {
			return &StateFileError{Path: path, Reason: "is a bbolt file but not a " + stateFormat + " state file"}
		}
		if err := walk(tx); err != nil {
			return &StateFileError{Path: path, Reason: "is corrupt", Err: err}
		}
		members := tx.Bucket(bucketMembers)
		if members == nil {
			return &StateFileError{Path: path, Reason: "has no members bucket"}
		}
		if format == format1 {
			return loadFormat1(path, members, mem)
		}
		connectors := tx.Bucket(bucketConnectors)
		if connectors == nil {
			return &StateFileError{Path: path, Reason: "has no connectors bucket"}
		}
		nConnectors, nMembers := readSizes(tx, meta, info.Size(), connectors, members)
		if err := loadConnectors(path, connectors, format, nConnectors, mem); err != nil {
			return err
		}
		if groups := tx.Bucket(bucketGroups); groups != nil {
			if err := loadGroupEntities(path, groups, mem); err != nil {
				return err
			}
		}
		if assigned := tx.Bucket(bucketAssigned); assigned != nil {
			if err := loadAssignments(path, assigned, mem); err != nil {
				return err
			}
		}
		stored := make([]change, 0, nMembers)
		if err := members.ForEach(func(k, v []byte) error {
			app, seq, err := decodeMemberKey(k)
			var id uuid.UUID
			if err == nil {
				id, err = decodeReference(v)
			}
			if err != nil {
				return &StateFileError{Path: path, Reason: "has a member it cannot read", Err: err}
			}
			stored = append(stored, change{kind: join, seq: seq, group: app, id: id})
			return nil
		}); err != nil {
			return err
		}
		mem.mu.Lock()
		defer mem.mu.Unlock()
		var refused *loadRefusal
		if err := mem.loadGroupsLocked(stored); errors.As(err, &refused) {
			c := stored[refused.at]
			return loadError(path, refused.err, fmt.Sprintf("member %s of %s", c.id, c.group))
		}
		mem.implicitGroupsLocked()
		return nil
	})
}

// loadAssignments loads which applications are assigned to which groups,
// refusing an assignment to a group the file does not hold.
func loadAssignments(path string, b *bolt.Bucket, mem *Memory) error {
	mem.mu.Lock()
	defer mem.mu.Unlock()
	return b.ForEach(func(k, v []byte) error {
		group, seq, err := decodeMemberKey(k)
		var app uuid.UUID
		if err == nil {
			app, err = decodeReference(v)
		}
		switch {
		case err != nil:
		case !mem.groupReg.has(group):
			err = ErrGroupNotFound
		case hasKey(mem.assigned.groupOf, app):
			err = errors.New("the application is assigned twice")
		}
		if err != nil {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("has an assignment it cannot load (key %x)", k), Err: err}
		}
		mem.applyLocked(change{kind: assign, seq: seq, group: group, id: app})
		return nil
	})
}

// loadGroupEntities loads the connector groups of a file of format 4, in
// the order they were created.
func loadGroupEntities(path string, b *bolt.Bucket, mem *Memory) error {
	mem.mu.Lock()
	defer mem.mu.Unlock()
	return b.ForEach(func(k, v []byte) error {
		var g struct {
			ID uuid.UUID `json:"id"`
		}
		err := json.Unmarshal(v, &g)
		if err == nil && len(k) != 8 {
			err = fmt.Errorf("key of %d bytes", len(k))
		}
		if err == nil {
			_, err = decodeGroup(g.ID, v)
		}
		if err != nil {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("has a connector group it cannot read (key %x)", k), Err: err}
		}
		// Copied: the document is bbolt's, valid until the transaction ends.
		mem.applyLocked(change{kind: putGroup, seq: binary.BigEndian.Uint64(k), group: g.ID, doc: bytes.Clone(v)})
		return nil
	})
}

// decodeReference reads a member's value: the connector's 16-byte id, as
// format 3 writes it, or {"id":"<GUID>"}, as formats 1 and 2 did.
func decodeReference(v []byte) (uuid.UUID, error) {
	if len(v) == 16 {
		return uuid.UUID(v), nil
	}
	var ref storedReference
	err := json.Unmarshal(v, &ref)
	return ref.ID, err
}

// loadError says why a change the file holds cannot be loaded, or is nil.
func loadError(path string, err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrConnectorNotFound):
		return &StateFileError{Path: path, Reason: fmt.Sprintf("has %s, a connector it does not hold", what)}
	case errors.Is(err, ErrDuplicateMember):
		return &StateFileError{Path: path, Reason: fmt.Sprintf("holds %s twice", what)}
	}
	return &StateFileError{Path: path, Reason: "has " + what, Err: err}
}

// walk reads every key of every bucket, nested ones too, in this goroutine,
// where loadStateFile recovers what a corrupt page panics with. (tx.Check
// cannot be used: it loads the freelist, which bbolt rebuilds for a file
// written with NoFreelistSync by reading the pages in a goroutine of its own,
// where a corrupt page's panic ends the process.)
//
// The members and connectors buckets are left to the loaders, which read
// every key of them in the same goroutine: a second pass would double the
// reading of a large file.
func walk(tx *bolt.Tx) error {
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if bytes.Equal(name, bucketMembers) || bytes.Equal(name, bucketConnectors) {
			return nil
		}
		return walkBucket(b)
	})
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

// loadConnectors registers the connectors of a file of format 3 or 2, in
// the order they became known. Each is checked by the generated validator,
// as the body of an add is: a file edited by hand, or written by a build
// with other rules, cannot serve what the API would refuse. The checks run
// on every core, the loading in order under one lock.
func loadConnectors(path string, b *bolt.Bucket, format string, size int, mem *Memory) error {
	// The documents are bbolt's, valid until the transaction ends: the store copies them.
	stored := make([]change, 0, size)
	if err := b.ForEach(func(k, v []byte) error {
		if len(k) != 8 || binary.BigEndian.Uint64(k) == 0 {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("has a connector it cannot read (key %x)", k)}
		}
		seq := binary.BigEndian.Uint64(k)
		if format == format2 {
			var c legacyConnector
			err := json.Unmarshal(v, &c)
			if err == nil && c.Seq != seq {
				err = fmt.Errorf("its position is %d, its key %d", c.Seq, seq)
			}
			if err == nil {
				v, err = json.Marshal(c.Connector)
			}
			if err != nil {
				return &StateFileError{Path: path, Reason: fmt.Sprintf("has a connector it cannot read (key %x)", k), Err: err}
			}
		}
		stored = append(stored, change{kind: putConnector, seq: seq, doc: v})
		return nil
	}); err != nil {
		return err
	}
	// The checks run on every core, a run of connectors at a time, while
	// this goroutine registers the runs already checked, in order.
	const run = 1024
	runs := (len(stored) + run - 1) / run
	errs := make([]error, len(stored))
	checked := make([]chan struct{}, runs)
	for k := range checked {
		checked[k] = make(chan struct{})
	}
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait() // the documents are the transaction's: no check may outlive it
	defer stop.Store(true)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for k := int(next.Add(1) - 1); k < runs && !stop.Load(); k = int(next.Add(1) - 1) {
				// The run's documents as memory keeps them, without their
				// ids, in one buffer: the store copies them.
				size := 0
				for i := k * run; i < min(len(stored), (k+1)*run); i++ {
					size += len(stored[i].doc)
				}
				kept := make([]byte, 0, size)
				for i := k * run; i < min(len(stored), (k+1)*run); i++ {
					if stored[i].id, errs[i] = checkConnector(stored[i].doc); errs[i] == nil {
						start := len(kept)
						kept = withoutID(kept, stored[i].id, stored[i].doc)
						stored[i].doc = kept[start:len(kept):len(kept)]
					}
				}
				close(checked[k])
			}
		})
	}
	mem.mu.Lock()
	defer mem.mu.Unlock()
	if len(mem.connectors.index) == 0 {
		mem.connectors.index = make(map[uuid.UUID]uint32, len(stored)) // sized once
	}
	for k := range runs {
		<-checked[k]
		for i := k * run; i < min(len(stored), (k+1)*run); i++ {
			c := stored[i]
			if errs[i] != nil {
				return &StateFileError{Path: path, Reason: fmt.Sprintf("has connector %s, which breaks the API's rules", c.id), Err: errs[i]}
			}
			if err := mem.loadLocked(c); err != nil {
				return loadError(path, err, "connector "+c.id.String())
			}
		}
	}
	return nil
}

// loadFormat1 loads a format-1 file, whose members each carried the
// connector's properties: in the order they were added, across groups, so
// that a connector becomes known where it was first added and, where groups
// held different properties under one id, the most recently added win.
func loadFormat1(path string, b *bolt.Bucket, mem *Memory) error {
	type legacy struct {
		app uuid.UUID
		seq uint64
		doc []byte
	}
	var all []legacy
	if err := b.ForEach(func(k, v []byte) error {
		app, seq, err := decodeMemberKey(k)
		var c legacyConnector
		if err == nil {
			err = json.Unmarshal(v, &c)
		}
		var doc []byte
		if err == nil {
			doc, err = json.Marshal(c.Connector)
		}
		if err != nil {
			return &StateFileError{Path: path, Reason: "has a member it cannot read", Err: err}
		}
		all = append(all, legacy{app, seq, doc})
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b legacy) int { return cmp.Compare(a.seq, b.seq) })
	for _, l := range all {
		id, err := checkConnector(l.doc)
		if err != nil {
			return &StateFileError{Path: path, Reason: fmt.Sprintf("has member %s of %s, which breaks the API's rules", id, l.app), Err: err}
		}
		mem.mu.Lock()
		mem.applyLocked(change{kind: putConnector, seq: l.seq, id: id, doc: l.doc})
		mem.mu.Unlock()
		mem.mu.Lock()
		err = mem.loadLocked(change{kind: join, seq: l.seq, group: l.app, id: id})
		mem.mu.Unlock()
		if err != nil {
			return loadError(path, err, fmt.Sprintf("member %s of %s", id, l.app))
		}
	}
	return nil
}

// checkConnector checks a stored connector's document with the generated
// validator of the connector schema, and returns its id, which a stored
// connector must have.
func checkConnector(doc []byte) (uuid.UUID, error) {
	var vs reqcheck.Violations
	c := validation.DecodeConnector(doc, &vs)
	if c == nil {
		var rules []string
		for _, v := range vs.List() {
			rules = append(rules, strings.TrimPrefix(v.Target+": ", ": ")+v.Message)
		}
		var id struct {
			ID uuid.UUID `json:"id"`
		}
		_ = json.Unmarshal(doc, &id)
		return id.ID, errors.New(strings.Join(rules, "; "))
	}
	if c.ID == nil {
		return uuid.Nil, errors.New("/id: a stored connector has an id")
	}
	return *c.ID, nil
}

func memberKey(app uuid.UUID, seq uint64) []byte {
	k := make([]byte, 24)
	copy(k, app[:])
	binary.BigEndian.PutUint64(k[16:], seq)
	return k
}

// connectorKey is a connector's position in the registry: keys in the order
// connectors become known, so that a commit appends to the bucket's last
// page rather than dirtying pages all over it, as random ids would.
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

// Applications implements Store.
func (s *Durable) Applications(ctx context.Context, after Cursor, limit int) (ApplicationList, error) {
	return s.mem.Applications(ctx, after, limit)
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

// Group implements Store.
func (s *Durable) Group(ctx context.Context, id uuid.UUID) (Group, error) {
	return s.mem.Group(ctx, id)
}

// ApplicationGroup implements Store.
func (s *Durable) ApplicationGroup(ctx context.Context, app uuid.UUID) (uuid.UUID, error) {
	return s.mem.ApplicationGroup(ctx, app)
}

// GroupApplications implements Store.
func (s *Durable) GroupApplications(ctx context.Context, group uuid.UUID, after Cursor, limit int) (ApplicationPage, error) {
	return s.mem.GroupApplications(ctx, group, after, limit)
}

// Groups implements Store.
func (s *Durable) Groups(ctx context.Context, after Cursor, limit int) (GroupList, error) {
	return s.mem.Groups(ctx, after, limit)
}

// ScanMembers implements Store.
func (s *Durable) ScanMembers(ctx context.Context, group *uuid.UUID, after Cursor, fn func(Cursor, *Member) bool) error {
	return s.mem.ScanMembers(ctx, group, after, fn)
}

// ScanGroups implements Store.
func (s *Durable) ScanGroups(ctx context.Context, after Cursor, fn func(Cursor, *Group) bool) error {
	return s.mem.ScanGroups(ctx, after, fn)
}

// ScanApplications implements Store.
func (s *Durable) ScanApplications(ctx context.Context, group uuid.UUID, after Cursor, fn func(Cursor, uuid.UUID) bool) error {
	return s.mem.ScanApplications(ctx, group, after, fn)
}

// MemberOf implements Store.
func (s *Durable) MemberOf(ctx context.Context, id uuid.UUID, after Cursor, limit int) (GroupPage, error) {
	return s.mem.MemberOf(ctx, id, after, limit)
}

// doAll hands the ops to the committer without waiting for each, so that
// they share transactions and fsyncs (the committer takes up to
// maxCommitBatch at a time, in order), then waits for every verdict.
func (s *Durable) doAll(ctx context.Context, ops []Op) []error {
	errs := make([]error, len(ops))
	writes := make([]*durableWrite, len(ops))
	for i, op := range ops {
		if errs[i] = ctx.Err(); errs[i] != nil {
			continue
		}
		w := &durableWrite{op: op, result: make(chan error, 1)}
		if errs[i] = w.op.prepare(); errs[i] != nil {
			continue
		}
		if errs[i] = s.enqueue(w); errs[i] == nil {
			writes[i] = w
		}
	}
	for i, w := range writes {
		if w != nil {
			errs[i] = <-w.result
		}
	}
	return errs
}

// write hands op to the committer and waits for its verdict. Once handed
// over a write is not abandoned when ctx ends: its outcome is what the caller
// must learn, or an acknowledged-looking failure could hide a stored change.
func (s *Durable) write(ctx context.Context, op Op) (Member, error) {
	if err := ctx.Err(); err != nil {
		return Member{}, err
	}
	w := &durableWrite{op: op, result: make(chan error, 1)}
	if err := w.op.prepare(); err != nil {
		return Member{}, err
	}
	if err := s.enqueue(w); err != nil {
		return Member{}, err
	}
	err := <-w.result
	return w.member, err
}

// enqueue hands w to the committer, unless the store is closed or broken.
func (s *Durable) enqueue(w *durableWrite) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.Err(); err != nil {
		return err
	}
	s.writes <- w
	return nil
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
	linger := time.NewTimer(commitLinger)
	linger.Stop()
	answered := 0 // writers the last commit answered: under load, most of them write again at once
	for first := range s.writes {
		batch = append(batch[:0], first)
		lingering, lingered := false, false
	fill:
		for len(batch) < maxCommitBatch {
			select {
			case w, ok := <-s.writes:
				if !ok {
					break fill
				}
				batch = append(batch, w)
				continue
			default:
			}
			if len(batch) >= answered {
				break
			}
			// Fewer writers wait than the last commit answered: under load
			// they are on their way back, and waiting a moment for them makes
			// one fsync carry them all, where committing now would split
			// them over two.
			if !lingering {
				lingering = true
				linger.Reset(commitLinger)
			}
			select {
			case w, ok := <-s.writes:
				if !ok {
					break fill
				}
				batch = append(batch, w)
			case <-linger.C:
				lingered = true
				break fill
			}
		}
		if lingering && !lingered {
			linger.Stop() // its channel is unbuffered (Go 1.23): no stale tick to drain
		}
		answered = len(batch)
		s.commitOrBreak(batch)
	}
}

// commitLinger is how long a commit waits for writers the last one answered.
const commitLinger = time.Millisecond

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

// commit decides a batch's ops in memory, in the order they came, under one
// lock, writes the changes they made in one transaction and, once that is on
// disk, answers every writer. The committer is the only writer of s.mem.
//
// A reader may see a change from the moment it is decided, a few
// milliseconds before it is on disk; a writer learns of it only once it is.
// A transaction that fails leaves memory ahead of the file, so it breaks the
// store: the mock stops, and what the file holds is what was acknowledged.
func (s *Durable) commit(batch []*durableWrite) {
	var changes []change
	s.mem.mu.Lock()
	for _, w := range batch {
		changes, w.err = s.mem.decideLocked(&w.op, changes)
		if w.err == nil && w.op.Kind == OpAddReference {
			w.member, w.err = s.mem.connectorLocked(w.op.Member.ID)
		}
	}
	s.mem.mu.Unlock()
	s.hook("decided")
	if len(changes) > 0 {
		if err := s.db.Update(func(tx *bolt.Tx) error { return persist(tx, changes) }); err != nil {
			s.breakWith(batch, "cannot be written", err)
			return
		}
	}
	s.hook("written")
	for _, w := range batch {
		w.result <- w.err
	}
}

// hook tells a test's commit hook that a commit reached stage.
func (s *Durable) hook(stage string) {
	if s.commitHook != nil {
		s.commitHook(stage)
	}
}

// persist writes changes to the file, in order.
func persist(tx *bolt.Tx, changes []change) error {
	members, connectors, groups, assigned := tx.Bucket(bucketMembers), tx.Bucket(bucketConnectors), tx.Bucket(bucketGroups), tx.Bucket(bucketAssigned)
	for _, c := range changes {
		var err error
		switch c.kind {
		case putConnector:
			err = connectors.Put(connectorKey(c.seq), withID(c.id, c.doc))
		case join:
			err = members.Put(memberKey(c.group, c.seq), c.id[:])
		case leave:
			err = members.Delete(memberKey(c.group, c.seq))
		case dropGroup:
			cur := members.Cursor()
			prefix := c.group[:]
			for k, _ := cur.Seek(prefix); err == nil && k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Seek(prefix) {
				err = cur.Delete()
			}
		case dropAll:
			for _, name := range [...][]byte{bucketMembers, bucketConnectors, bucketGroups, bucketAssigned} {
				if err = tx.DeleteBucket(name); err != nil {
					return err
				}
				if _, err = tx.CreateBucket(name); err != nil {
					return err
				}
			}
			members, connectors, groups, assigned = tx.Bucket(bucketMembers), tx.Bucket(bucketConnectors), tx.Bucket(bucketGroups), tx.Bucket(bucketAssigned)
		case assign:
			err = assigned.Put(memberKey(c.group, c.seq), c.id[:])
		case unassign:
			err = assigned.Delete(memberKey(c.group, c.seq))
		case putGroup:
			err = groups.Put(connectorKey(c.seq), c.doc)
		case deleteGroup:
			err = groups.Delete(connectorKey(c.seq))
		}
		if err != nil {
			return err
		}
	}
	return nil
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
	// One last commit writes the sizes, so that the next open does not
	// count every key. (The freelist stays unwritten: a freelist page read
	// back damaged panics bbolt's next commit, where a rebuilt one cannot.)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySizes, encodeSizes(s.mem.connectorCount(), s.mem.Members(), uint64(tx.ID())))
	})
	return errors.Join(err, s.db.Close())
}

// encodeSizes is keySizes' value: three big-endian uint64s, the counts and
// the id of the transaction that writes them.
func encodeSizes(connectors, members int, txid uint64) []byte {
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b, uint64(connectors))
	binary.BigEndian.PutUint64(b[8:], uint64(members))
	binary.BigEndian.PutUint64(b[16:], txid)
	return b
}

// readSizes is how many connectors and members to make room for: the
// sizes a clean Close wrote when it was the last transaction, bounded by
// what a file of its size can hold, or else bbolt's count.
func readSizes(tx *bolt.Tx, meta *bolt.Bucket, fileSize int64, connectors, members *bolt.Bucket) (int, int) {
	if v := meta.Get(keySizes); len(v) == 24 && binary.BigEndian.Uint64(v[16:]) == uint64(tx.ID()) {
		// A connector or a member takes more than 16 bytes of a page.
		bound := uint64(min(fileSize/16, 1<<31))
		return int(min(binary.BigEndian.Uint64(v), bound)), int(min(binary.BigEndian.Uint64(v[8:]), bound))
	}
	return connectors.Stats().KeyN, members.Stats().KeyN
}
