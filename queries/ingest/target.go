package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/catalog"
	"hmperf/queries/copyenc"
	"hmperf/queries/lockwait"
	"hmperf/queries/sandbox"
)

// Target says which tables an Ingester writes.
type Target int

const (
	// Live writes the tables themselves: hmperf's own database, a --file
	// import of real payloads, or generated rows with --target live.
	Live Target = iota
	// Sandbox writes twins of the live tables in schema hmperf_sandbox,
	// made on demand: generated rows on a database hmperf did not create.
	Sandbox
)

// String is the target's name on the command line.
func (t Target) String() string {
	if t == Sandbox {
		return "sandbox"
	}
	return "live"
}

// ParseTarget parses a --target value.
func ParseTarget(s string) (Target, error) {
	switch s {
	case "live":
		return Live, nil
	case "sandbox":
		return Sandbox, nil
	}
	return 0, fmt.Errorf("unknown target %q (want live or sandbox)", s)
}

// statsName is the name a kind's table goes by in the stats tables: the
// sandbox's are qualified, so nothing reading the stats takes sandbox rows
// for writes to the live table.
func (t Target) statsName(k engine.Kind) string {
	if t == Sandbox {
		return sandbox.Schema + "." + k.Table()
	}
	return k.Table()
}

// layout is what the catalogue says about the tables an Ingester writes,
// read once when it starts.
type layout struct {
	users  *catalog.Users
	tables [engine.NumKinds]*tableTarget // nil for a kind without a table
	// absent names the table looked up for each kind that has none: its
	// records are counted as unsupported, as a payload type without a
	// table is.
	absent [engine.NumKinds]string
	// checks are the CHECK constraints of each kind's table.
	checks [engine.NumKinds][]catalog.Check
	// recordOwn is set when batches record what they wrote to live tables
	// in hmperf.own_writes (migration 0032), so the write sampler never
	// counts it as the service's; never for the sandbox, which the sampler
	// skips.
	recordOwn bool
}

// tableTarget is one kind's table with the statements that write it.
type tableTarget struct {
	m       *catalog.Mapping
	enc     *copyenc.Layout // how its rows are encoded for COPY
	name    string          // schema-qualified, for messages
	ident   pgx.Identifier
	stage   pgx.Identifier
	create  string // the session's staging table
	move    string // staging → table
	insert  string // one row
	columns []string
	// stored finds the batch's keys already in the table, and keyAt is
	// where the key's values are in a row: set only where the table has no
	// unique key on them (idempotent.go).
	stored string
	keyAt  []int
}

// readLayout reads the target's tables, making the sandbox twins first
// when the target is the sandbox. Every table that exists is mapped before
// anything is written, so a missing column stops the run before its first
// row; a kind whose live table does not exist at all is no error (the
// database is the service's, which may not have every table hmperf knows),
// only users is required.
func readLayout(ctx context.Context, db queries.DBTX, target Target, lock lockwait.Policy) (*layout, error) {
	kinds := engine.Kinds()
	live, err := readTables(ctx, db, tableIdents(kinds, nil))
	if err != nil {
		return nil, err
	}
	if live[0] == nil {
		return nil, fmt.Errorf("table users: %w: every record needs its user", catalog.ErrNoTable)
	}
	lay := &layout{}
	if target == Live {
		if lay.recordOwn, err = queries.HasOwnWrites(ctx, db); err != nil {
			return nil, err
		}
	}
	for i, k := range kinds {
		if live[i+1] == nil {
			lay.absent[k] = k.Table()
		}
	}
	tables := live
	if target == Sandbox {
		if err := sandbox.Ensure(ctx, db, present(live), lock); err != nil {
			return nil, err
		}
		if tables, err = readTables(ctx, db, tableIdents(kinds, live)); err != nil {
			return nil, err
		}
		for i := range tables {
			if live[i] != nil && tables[i] == nil {
				return nil, fmt.Errorf("sandbox twin of %s: %w", live[i], catalog.ErrNoTable)
			}
		}
	}
	if lay.users, err = catalog.MapUsers(tables[0]); err != nil {
		return nil, err
	}
	for i, k := range kinds {
		if tables[i+1] == nil {
			continue
		}
		m, err := catalog.Map(engine.TableOf(k), tables[i+1])
		if err != nil {
			return nil, err
		}
		lay.tables[k] = newTableTarget(m)
		if lay.tables[k].enc, err = copyenc.Describe(ctx, db, k, m); err != nil {
			return nil, err
		}
		if err := lay.tables[k].probeIndex(ctx, db); err != nil {
			return nil, err
		}
		if lay.checks[k], err = catalog.ReadChecks(ctx, db, tables[i+1]); err != nil {
			return nil, err
		}
	}
	return lay, nil
}

// adapt fits rules to the CHECKs of every table the layout writes and
// returns them with the CHECKs no engine rule enforces.
func (lay *layout) adapt(rules *engine.Rules) (*engine.Rules, []catalog.Check) {
	var unknown []catalog.Check
	for k, tbl := range lay.tables {
		if tbl == nil {
			continue
		}
		var u []catalog.Check
		rules, u = catalog.Adapt(rules, engine.Kind(k), tbl.m, lay.checks[k])
		unknown = append(unknown, u...)
	}
	return rules, unknown
}

// copyPaths says, per table written, how its COPY rows are encoded
// (copyenc.Layout.Path).
func (lay *layout) copyPaths() map[string]string {
	out := map[string]string{}
	for _, tbl := range lay.tables {
		if tbl != nil {
			out[tbl.name] = tbl.enc.Path()
		}
	}
	return out
}

// tableIdents names users and the kinds' tables: the live ones when live
// is nil, else the sandbox twins of those live has (nil for the others).
func tableIdents(kinds []engine.Kind, live []*catalog.Table) []pgx.Identifier {
	names := []string{"users"}
	for _, k := range kinds {
		names = append(names, k.Table())
	}
	idents := make([]pgx.Identifier, len(names))
	for i, n := range names {
		switch {
		case live == nil:
			idents[i] = pgx.Identifier{n}
		case live[i] != nil:
			idents[i] = sandbox.Ident(n)
		}
	}
	return idents
}

// present is the tables that exist.
func present(tables []*catalog.Table) []*catalog.Table {
	var out []*catalog.Table
	for _, t := range tables {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// readTables reads the tables idents names, leaving nil where an ident is
// nil or its table does not exist.
func readTables(ctx context.Context, db queries.DBTX, idents []pgx.Identifier) ([]*catalog.Table, error) {
	out := make([]*catalog.Table, len(idents))
	for i, id := range idents {
		if id == nil {
			continue
		}
		t, err := catalog.Read(ctx, db, id)
		if errors.Is(err, catalog.ErrNoTable) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

func newTableTarget(m *catalog.Mapping) *tableTarget {
	t := &tableTarget{m: m, name: m.Table.String(), ident: m.Table.Ident(), columns: m.Columns,
		// Named by the table's oid: unique per table, whatever the schema,
		// and well within the identifier length limit.
		stage: pgx.Identifier{fmt.Sprintf("hmperf_stage_%d", m.Table.OID)}}
	cols := columnList(m.Columns)
	conflict := "ON CONFLICT DO NOTHING"
	if m.Key != nil {
		conflict = "ON CONFLICT (" + columnList(m.Key) + ") DO NOTHING"
	}
	t.create = fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s ON COMMIT DELETE ROWS AS SELECT %s FROM %s WITH NO DATA",
		t.stage.Sanitize(), cols, t.ident.Sanitize())
	t.move = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s %s",
		t.ident.Sanitize(), cols, cols, t.stage.Sanitize(), conflict)
	placeholders := make([]string, len(m.Columns))
	for i := range placeholders {
		placeholders[i] = fmt.Sprintf("$%d", i+1)
	}
	t.insert = fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) %s",
		t.ident.Sanitize(), cols, strings.Join(placeholders, ", "), conflict)
	if m.Key == nil { // no unique index on the natural key
		t.stored, t.keyAt = storedQuery(t, false), naturalKeyAt(t)
	}
	return t
}

// CreatesUsers is the users policy. The live users table belongs to the
// service, so a run adds users to it only when asked (--create-users);
// the sandbox has users of its own, and a database hmperf created itself
// has no service whose users they could be, so runs there add the users
// their records name as before (and name them).
func CreatesUsers(target Target, hmperfCreated, asked bool) bool {
	return asked || target == Sandbox || hmperfCreated
}

// ErrNoUsers is SampleUsers' answer on a users table without users.
var ErrNoUsers = errors.New("no users to draw generated records from")

// sampleUsersLimit bounds the existing users a sample run draws from:
// enough to spread the rows as the service's own traffic is spread, few
// enough that the generator's per-user state stays small.
const sampleUsersLimit = 1000

// SampleUsers returns the users a generated sample run must use: nil when
// the run adds its own (CreatesUsers), otherwise existing users of the
// target's users table, so the sample adds none; ErrNoUsers, naming the
// table, when it has none.
func (in *Ingester) SampleUsers(ctx context.Context) ([]engine.UUID, error) {
	if in.createsUsers() {
		return nil, nil
	}
	lay, err := in.layout(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := lay.users.Existing(ctx, in.db, sampleUsersLimit)
	if err != nil {
		return nil, fmt.Errorf("read the users of %s: %w", lay.users.Table, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("table %s: %w", lay.users.Table, ErrNoUsers)
	}
	return ids, nil
}
