package store_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server/store"
)

// The model-based test: random sequences of ops against a Durable in a child
// process, killed with SIGKILL or stopped cleanly at random points, and after
// every restart the state the file gives back compared with a plain model of
// what was acknowledged. make test runs a few sequences; make fuzz runs
// MODEL_SEQUENCES of them (500 unless told).
var (
	modelSequences = flag.Int("model.sequences", 6, "random sequences of the model-based test")
	modelOps       = flag.Int("model.ops", 40, "ops in each sequence")
	modelSeed      = flag.Uint64("model.seed", 0, "seed of the model-based test (0: from the clock)")
)

// childEnv names the state file a child process serves ops on.
const childEnv = "STORE_MODEL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(serveOps(path, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// command is one line the parent sends the child: an op, a batch of ops
// (a seed), a dump of the state, or a clean stop.
type command struct {
	Op    *wireOp  `json:"op,omitempty"`
	Seed  []wireOp `json:"seed,omitempty"`
	Dump  bool     `json:"dump,omitempty"`
	Close bool     `json:"close,omitempty"`
	// CrashAt kills the child (SIGKILL, from itself) when its next commit
	// reaches this stage: "decided" or "written" (see SetCommitHook).
	CrashAt string `json:"crashAt,omitempty"`
}

type wireOp struct {
	Kind  store.OpKind `json:"kind"`
	Group uuid.UUID    `json:"group"`
	ID    uuid.UUID    `json:"id"`
	Name  string       `json:"name,omitempty"` // the connector's properties: its machine name and status say which
	All   bool         `json:"all,omitempty"`
}

func (w wireOp) op() store.Op {
	return store.Op{Kind: w.Kind, Group: w.Group, AllGroups: w.All, Member: store.Member{ID: w.ID,
		Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: w.Name, Status: generated.ConnectorStatusValues()[len(w.Name)%len(generated.ConnectorStatusValues())]}}}
}

// answer is the child's line for a command: each op's outcome, or the state.
type answer struct {
	Outcomes []string  `json:"outcomes,omitempty"`
	State    *snapshot `json:"state,omitempty"`
}

// snapshot is a store's whole state: the connectors in registry order with
// their machine names, and each group's members in order.
type snapshot struct {
	Connectors []connectorName           `json:"connectors"`
	Groups     map[uuid.UUID][]uuid.UUID `json:"groups"`
}

type connectorName struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// outcome names an op's result as the model does.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrDuplicateMember):
		return "duplicate"
	case errors.Is(err, store.ErrMemberNotFound):
		return "not a member"
	case errors.Is(err, store.ErrConnectorNotFound):
		return "no such connector"
	case errors.Is(err, store.ErrInDefaultGroup):
		return "in the default group"
	}
	return "error: " + err.Error()
}

// serveOps is the child: it opens the state file and answers commands until
// told to stop (or killed).
func serveOps(path string, in io.Reader, out io.Writer) int {
	ctx := context.Background()
	s, err := store.OpenDurable(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	enc := json.NewEncoder(out)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var c command
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if c.CrashAt != "" {
			s.SetCommitHook(func(stage string) {
				if stage == c.CrashAt {
					_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {} // the signal is on its way
				}
			})
		}
		var a answer
		switch {
		case c.Close:
			if err := s.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			return 0
		case c.Dump:
			a.State = dump(ctx, s)
		case c.Op != nil:
			a.Outcomes = []string{outcome(store.AddAll(ctx, s, []store.Op{c.Op.op()})[0])}
		default:
			ops := make([]store.Op, len(c.Seed))
			for i, w := range c.Seed {
				ops[i] = w.op()
			}
			for _, err := range store.AddAll(ctx, s, ops) {
				a.Outcomes = append(a.Outcomes, outcome(err))
			}
		}
		if err := enc.Encode(a); err != nil {
			return 1
		}
	}
	return 0
}

// dump reads the whole state through the Store's own reads.
func dump(ctx context.Context, s store.Store) *snapshot {
	snap := &snapshot{Groups: map[uuid.UUID][]uuid.UUID{}}
	for after := store.Cursor(0); ; {
		page, err := s.Connectors(ctx, after, 999)
		if err != nil {
			panic(err)
		}
		for _, m := range page.Members {
			snap.Connectors = append(snap.Connectors, connectorName{m.ID, m.MachineName})
			groups, err := s.MemberOf(ctx, m.ID, 0, 999)
			if err != nil {
				panic(err)
			}
			for _, g := range groups.Groups {
				if _, ok := snap.Groups[g]; ok {
					continue
				}
				for after := store.Cursor(0); ; {
					members, err := s.List(ctx, g, after, 999)
					if err != nil {
						panic(err)
					}
					for _, mm := range members.Members {
						snap.Groups[g] = append(snap.Groups[g], mm.ID)
					}
					if !members.More {
						break
					}
					after = members.Next
				}
			}
		}
		if !page.More {
			return snap
		}
		after = page.Next
	}
}

// model is the plain in-memory model of what the store must hold: the same
// rules, written the obvious way.
type model struct {
	order  []uuid.UUID // connectors in the order they became known
	names  map[uuid.UUID]string
	groups map[uuid.UUID][]uuid.UUID
}

func newModel() *model {
	return &model{names: map[uuid.UUID]string{}, groups: map[uuid.UUID][]uuid.UUID{}}
}

func (m *model) clone() *model {
	c := &model{order: slices.Clone(m.order), names: maps.Clone(m.names), groups: map[uuid.UUID][]uuid.UUID{}}
	for g, ids := range m.groups {
		c.groups[g] = slices.Clone(ids)
	}
	return c
}

func (m *model) register(id uuid.UUID, name string) {
	if _, ok := m.names[id]; !ok {
		m.order = append(m.order, id)
	}
	m.names[id] = name
}

// groupOf is the one group connector id is in.
func (m *model) groupOf(id uuid.UUID) (uuid.UUID, bool) {
	for g, ids := range m.groups {
		if slices.Contains(ids, id) {
			return g, true
		}
	}
	return uuid.UUID{}, false
}

// move takes connector id out of its group (if any) and into group.
func (m *model) move(id, group uuid.UUID) {
	if from, ok := m.groupOf(id); ok {
		i := slices.Index(m.groups[from], id)
		m.groups[from] = slices.Delete(m.groups[from], i, i+1)
		if len(m.groups[from]) == 0 {
			delete(m.groups, from)
		}
	}
	m.groups[group] = append(m.groups[group], id)
}

// apply is the service's rules, plainly: a connector is in exactly one
// group (a new one registered alone is in the default group), an add moves
// it, a removal puts it back in the default group.
func (m *model) apply(w wireOp) string {
	switch w.Kind {
	case store.OpRegister:
		if _, known := m.names[w.ID]; !known {
			m.groups[store.DefaultGroupID] = append(m.groups[store.DefaultGroupID], w.ID)
		}
		m.register(w.ID, w.Name)
	case store.OpAdd, store.OpAddReference:
		if g, ok := m.groupOf(w.ID); ok && g == w.Group {
			return "duplicate"
		}
		if w.Kind == store.OpAddReference {
			if _, ok := m.names[w.ID]; !ok {
				return "no such connector"
			}
		} else {
			m.register(w.ID, w.Name)
		}
		m.move(w.ID, w.Group)
	case store.OpRemove:
		if !slices.Contains(m.groups[w.Group], w.ID) {
			return "not a member"
		}
		if w.Group == store.DefaultGroupID {
			return "in the default group"
		}
		m.move(w.ID, store.DefaultGroupID)
	case store.OpReset:
		if w.All {
			*m = *newModel()
		} else if w.Group != store.DefaultGroupID {
			for _, id := range slices.Clone(m.groups[w.Group]) {
				m.move(id, store.DefaultGroupID)
			}
		}
	}
	return "ok"
}

func (m *model) snapshot() *snapshot {
	snap := &snapshot{Groups: map[uuid.UUID][]uuid.UUID{}}
	for _, id := range m.order {
		snap.Connectors = append(snap.Connectors, connectorName{id, m.names[id]})
	}
	for g, ids := range m.groups {
		snap.Groups[g] = slices.Clone(ids)
	}
	return snap
}

// child is a running child process.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
}

func startChild(t *testing.T, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// Under -race, the race detector sleeps a second before a process
	// exits, for reports to come: the child's clean stops need none.
	cmd.Env = append(os.Environ(), childEnv+"="+path, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &child{cmd: cmd, in: in, out: json.NewDecoder(out)}
}

func (c *child) send(t *testing.T, cmd command) {
	t.Helper()
	if err := json.NewEncoder(c.in).Encode(cmd); err != nil {
		t.Fatal(err)
	}
}

func (c *child) receive(t *testing.T) answer {
	t.Helper()
	var a answer
	if err := c.out.Decode(&a); err != nil {
		t.Fatalf("the child did not answer: %v", err)
	}
	return a
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

func (c *child) close(t *testing.T) {
	t.Helper()
	c.send(t, command{Close: true})
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("the child did not stop cleanly: %v", err)
	}
}

// TestAcknowledgedChangesSurvive is the model-based test: nothing the store
// acknowledged is lost across clean restarts and kill -9, and nothing it did
// not make appears; the store's answers are the model's.
func TestAcknowledgedChangesSurvive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	if raceEnabled {
		t.Skip("its work is in child processes: run without -race (make test does)")
	}
	t.Parallel() // its time is mostly the children's fsyncs and restarts
	seed := *modelSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("-model.seed=%d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	groups := make([]uuid.UUID, 3)
	ids := make([]uuid.UUID, 6)
	for i := range groups {
		groups[i] = uuid.NewSHA1(uuid.Nil, fmt.Appendf(nil, "group %d", i))
	}
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.Nil, fmt.Appendf(nil, "connector %d", i))
	}
	randomOp := func() wireOp {
		w := wireOp{Group: groups[rng.IntN(len(groups))], ID: ids[rng.IntN(len(ids))], Name: fmt.Sprintf("n%d", rng.IntN(1000))}
		switch r := rng.IntN(100); {
		case r < 30:
			w.Kind = store.OpAdd
		case r < 50:
			w.Kind = store.OpAddReference
		case r < 62:
			w.Kind = store.OpRegister
		case r < 92:
			w.Kind = store.OpRemove
		case r < 97:
			w.Kind = store.OpReset
		default:
			w.Kind, w.All = store.OpReset, true
		}
		return w
	}
	sequences := *modelSequences
	var ops, restarts, kills, inFlight int
	for sequence := range sequences {
		path := filepath.Join(t.TempDir(), "state.db")
		want := newModel()
		c := startChild(t, path)
		check := func(what string, candidates ...*model) *model {
			t.Helper()
			c.send(t, command{Dump: true})
			got := c.receive(t).State
			for _, m := range candidates {
				if reflect.DeepEqual(got, m.snapshot()) {
					return m
				}
			}
			t.Fatalf("sequence %d (-model.seed=%d), %s: the store holds\n%+v\nwant\n%+v", sequence, seed, what, got, candidates[0].snapshot())
			return nil
		}
		for range *modelOps {
			var batch []wireOp
			if rng.IntN(10) == 0 { // a seed: several ops in one AddAll
				for range 1 + rng.IntN(6) {
					batch = append(batch, randomOp())
				}
			} else {
				batch = []wireOp{randomOp()}
			}
			cmd := command{Seed: batch}
			if len(batch) == 1 {
				cmd = command{Op: &batch[0]}
			}
			ops += len(batch)
			crash := rng.IntN(12)
			if crash < 2 {
				// The child kills itself as it commits: with the changes
				// decided in memory but not on disk, or on disk but not
				// acknowledged (an op the rules refuse commits nothing, and
				// is answered).
				cmd.CrashAt = [...]string{"decided", "written"}[crash]
			}
			c.send(t, cmd)
			if crash < 3 {
				// kill -9 with the command in flight (the third case: from
				// here, as soon as it is sent): after the restart the store
				// holds the model before it or after some prefix of it (a
				// batch commits in order, possibly over several
				// transactions), never anything else.
				if crash < 2 {
					_ = c.cmd.Wait() // it kills itself as it commits
				} else {
					c.kill(t)
				}
				kills++
				inFlight++
				candidates := []*model{want.clone()}
				for i := range batch {
					next := candidates[i].clone()
					next.apply(batch[i])
					candidates = append(candidates, next)
				}
				c = startChild(t, path)
				want = check("after kill -9 with a command in flight", candidates...)
				continue
			}
			got := c.receive(t).Outcomes
			var expected []string
			for _, w := range batch {
				expected = append(expected, want.apply(w))
			}
			if !slices.Equal(got, expected) {
				t.Fatalf("sequence %d (-model.seed=%d): %+v answered %v, the model %v", sequence, seed, batch, got, expected)
			}
			switch rng.IntN(10) {
			case 0:
				c.close(t)
				restarts++
				c = startChild(t, path)
				check("after a clean restart", want)
			case 1:
				c.kill(t)
				kills++
				c = startChild(t, path)
				check("after kill -9 between commands", want)
			}
		}
		check("at the end", want)
		c.close(t)
	}
	t.Logf("%d sequences, %d ops, %d clean restarts, %d kills (%d with a command in flight): every acknowledged change kept",
		sequences, ops, restarts, kills, inFlight)
}
