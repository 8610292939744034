package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/copyenc"
)

// The three strategies of migration 0022, as the index-strategy claim run
// measures them.
const (
	// StrategyImmediate declares the indexes on the partitioned parent, so
	// PostgreSQL builds them with every new partition; then the partition
	// is loaded with its indexes in place.
	StrategyImmediate = "immediate"
	// StrategyLazy creates the partition bare and builds its indexes at the
	// next processing run, which here starts the moment the partition
	// exists (the best case for lazy): one CREATE INDEX CONCURRENTLY after
	// another, as hmperf's worker builds, while the partition is loaded.
	StrategyLazy = "lazy"
	// StrategyDeferred creates the partition bare and builds its indexes
	// once it reaches its size threshold, here the size it is loaded to:
	// the same concurrent builds, after the load.
	StrategyDeferred = "deferred"
)

// Strategies lists the strategies in the report's order.
var Strategies = []string{StrategyImmediate, StrategyLazy, StrategyDeferred}

// loadChunk is how many rows each COPY of the load commits: an ingest
// batch.
const loadChunk = 5000

// calibrationRows is how many rows are loaded once, untimed, to learn the
// heap bytes a row takes.
const calibrationRows = 2000

// indexStrategyMethod says what the index-strategy claim run measures.
const indexStrategyMethod = "per strategy, one partition of a scratch copy of the table (hmperf_scratch_<run>) created and loaded " +
	"by binary COPY in committed batches of 5,000 rows until its heap holds --partition-size; immediate = indexes declared on the parent, " +
	"built with the partition; lazy = bare partition, CREATE INDEX CONCURRENTLY of each index started as soon as it exists, during the load; " +
	"deferred = bare partition, the same builds once it is loaded; strategies interleaved, their order rotated each repetition; " +
	"times by the client's monotonic clock from the CREATE TABLE ... PARTITION OF"

// strategyRep is one strategy's measurements in one repetition.
type strategyRep struct {
	create, accepts, loadRPS, valid, total, readIndexed float64
	readMissing                                         *float64
}

// indexBench is the set-up an index-strategy run shares across reps.
type indexBench struct {
	pool     *pgxpool.Pool
	opt      ClaimOptions
	schema   string
	parents  map[string]string // strategy → parent, sanitized
	indexes  []indexDef
	enc      *copyenc.Layout // encodes the rows for every strategy's parent
	chunks   [][]byte
	rows     int
	user     [16]byte
	from, to time.Time
}

// indexDef is one index of the live table: unique or not, and the part of
// its definition from USING on.
type indexDef struct {
	unique bool
	using  string
}

func measureIndexStrategies(ctx context.Context, db queries.DBTX, opt ClaimOptions, run *ClaimRun) error {
	pool, ok := db.(*pgxpool.Pool)
	if !ok {
		return errors.New("bench: the index-strategy claim needs a connection pool: lazy builds run while the partition loads")
	}
	pair, err := PairNamed(opt.Table)
	if err != nil {
		return err
	}
	live := pair.Tables[Original]
	run.Method = indexStrategyMethod
	run.Params["table"] = live
	run.Params["partition_bytes"] = strconv.FormatInt(opt.PartitionBytes, 10)
	schema := scratchSchema(run.ID)
	return inScratch(ctx, pool, opt.LockWait, opt.Log, schema, []string{live}, func() error {
		b := &indexBench{pool: pool, opt: opt, schema: schema}
		if err := b.setUp(ctx, live); err != nil {
			return err
		}
		run.Params["rows"] = strconv.Itoa(b.rows)
		run.Params["indexes"] = strconv.Itoa(len(b.indexes))
		return b.measure(ctx, run)
	})
}

func (b *indexBench) ident(name string) string { return pgx.Identifier{b.schema, name}.Sanitize() }

// setUp creates one parent per strategy like the scratch copy of live
// (columns, defaults, CHECKs; no foreign key, so no row owners), reads the
// copy's indexes, declares them on the immediate parent, and generates and
// encodes the rows that fill a partition to the size asked.
func (b *indexBench) setUp(ctx context.Context, live string) error {
	var err error
	if b.indexes, err = readIndexes(ctx, b.pool, b.ident(live)); err != nil {
		return err
	}
	b.parents = map[string]string{}
	for _, s := range Strategies {
		b.parents[s] = b.ident("ix_" + s)
		create := fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING GENERATED) PARTITION BY RANGE (recorded_at)",
			b.parents[s], b.ident(live))
		if _, err := b.pool.Exec(ctx, create); err != nil {
			return fmt.Errorf("bench: strategy parent %s: %w", s, err)
		}
	}
	for i, ix := range b.indexes {
		if _, err := b.pool.Exec(ctx, ix.sql(b.ident("ix_immediate_"+strconv.Itoa(i)), b.parents[StrategyImmediate], false)); err != nil {
			return fmt.Errorf("bench: index on the immediate parent: %w", err)
		}
	}
	anchor := time.Now().UTC().Truncate(time.Hour)
	b.from, b.to = anchor.Add(-31*24*time.Hour), anchor.Add(24*time.Hour)
	return b.prepareRows(ctx, live, anchor)
}

// readIndexes reads the indexes of table (a sanitized name).
func readIndexes(ctx context.Context, db queries.DBTX, table string) ([]indexDef, error) {
	rows, err := db.Query(ctx, `SELECT i.indisunique, pg_get_indexdef(i.indexrelid) FROM pg_index i
		 WHERE i.indrelid = $1::regclass ORDER BY i.indexrelid`, table)
	if err != nil {
		return nil, fmt.Errorf("bench: indexes of %s: %w", table, err)
	}
	defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (indexDef, error) {
		var d indexDef
		var full string
		if err := r.Scan(&d.unique, &full); err != nil {
			return d, err
		}
		_, using, ok := strings.Cut(full, " USING ")
		if !ok {
			return d, fmt.Errorf("index definition without USING: %s", full)
		}
		d.using = using
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: indexes of %s: %w", table, err)
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("bench: %s has no index: there is nothing to create by any strategy", table)
	}
	return defs, nil
}

// sql is the statement that builds the index as name on table.
func (d indexDef) sql(name, table string, concurrently bool) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if d.unique {
		b.WriteString("UNIQUE ")
	}
	b.WriteString("INDEX ")
	if concurrently {
		b.WriteString("CONCURRENTLY ")
	}
	// The name is schema-qualified for the caller's convenience; an index
	// is created in its table's schema and takes a bare name.
	_, bare, _ := strings.Cut(name, ".")
	fmt.Fprintf(&b, "%s ON %s USING %s", bare, table, d.using)
	return b.String()
}

// prepareRows generates the rows, learns from an untimed load of a few how
// many fill the partition's heap to the size asked, and encodes that many
// as binary COPY chunks; the first chunk is one row, the probe that says
// when the partition accepts inserts.
func (b *indexBench) prepareRows(ctx context.Context, live string, anchor time.Time) error {
	ds, err := Generate(pairOfOriginal(live), loadChunk, b.opt.Seed, anchor)
	if err != nil {
		return err
	}
	b.user = ds.Users[0]
	m, _, err := MapRows(ctx, b.pool, pgx.Identifier{b.schema, "ix_" + StrategyDeferred}, ds)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if b.enc, err = copyenc.Describe(ctx, b.pool, ds.Kind, m); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	perRow, err := b.calibrate(ctx, ds.Records[:calibrationRows])
	if err != nil {
		return err
	}
	b.rows = max(2, int((float64(b.opt.PartitionBytes)+perRow-1)/perRow))
	recs := ds.Records
	for i, done := 0, 0; done < b.rows; i++ {
		if i > 0 {
			if ds, err = Generate(pairOfOriginal(live), loadChunk, b.opt.Seed+uint64(i)*7919, anchor); err != nil {
				return err
			}
			recs = ds.Records
		}
		recs = recs[:min(len(recs), b.rows-done)]
		if i == 0 {
			if err := b.addChunk(recs[:1]); err != nil {
				return err
			}
			recs = recs[1:]
			done++
		}
		if len(recs) > 0 {
			if err := b.addChunk(recs); err != nil {
				return err
			}
		}
		done += len(recs)
	}
	return nil
}

// encode is recs as one binary COPY stream for the strategies' tables.
func (b *indexBench) encode(recs []engine.Record) ([]byte, error) {
	data, err := b.enc.NewEncoder().AppendAll(nil, recs)
	if err != nil {
		return nil, fmt.Errorf("bench: encode rows: %w", err)
	}
	return data, nil
}

func (b *indexBench) addChunk(recs []engine.Record) error {
	data, err := b.encode(recs)
	if err != nil {
		return err
	}
	b.chunks = append(b.chunks, data)
	return nil
}

// calibrate loads recs into a bare partition and returns the heap bytes a
// row takes there; the partition is dropped again.
func (b *indexBench) calibrate(ctx context.Context, recs []engine.Record) (float64, error) {
	data, err := b.encode(recs)
	if err != nil {
		return 0, err
	}
	part := b.ident("ix_calibration")
	if err := b.createPartition(ctx, part, StrategyDeferred); err != nil {
		return 0, err
	}
	defer b.dropPartition(part)
	if err := b.load(ctx, StrategyDeferred, data); err != nil {
		return 0, err
	}
	var heap int64
	if err := b.pool.QueryRow(ctx, "SELECT pg_relation_size($1::regclass)", part).Scan(&heap); err != nil {
		return 0, fmt.Errorf("bench: size of %s: %w", part, err)
	}
	return float64(heap) / float64(len(recs)), nil
}

func (b *indexBench) createPartition(ctx context.Context, part, strategy string) error {
	_, err := b.pool.Exec(ctx, fmt.Sprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')",
		part, b.parents[strategy], b.from.Format(time.RFC3339), b.to.Format(time.RFC3339)))
	if err != nil {
		return fmt.Errorf("bench: create partition %s: %w", part, err)
	}
	return nil
}

// dropPartition drops a partition with its own context: a cancelled run
// drops it too (the scratch schema would take it anyway).
func (b *indexBench) dropPartition(part string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = b.pool.Exec(ctx, "DROP TABLE IF EXISTS "+part)
}

// load commits one chunk into strategy's parent.
func (b *indexBench) load(ctx context.Context, strategy string, data []byte) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	p := copyPayload{sql: b.enc.SQL(pgx.Identifier{b.schema, "ix_" + strategy}), data: data}
	if _, err := copyEncoded(ctx, tx, p); err != nil {
		return fmt.Errorf("bench: load %s: %w", strategy, err)
	}
	return tx.Commit(ctx)
}

// measure runs the strategies interleaved until the plan says stop and
// fills run with their figures and verdicts.
func (b *indexBench) measure(ctx context.Context, run *ClaimRun) error {
	per := map[string][]strategyRep{}
	pl := b.opt.plan()
	for r := 1; pl.moreClaims(r, indexVerdicts(per)); r++ {
		for i := range Strategies {
			s := Strategies[(i+r-1)%len(Strategies)]
			m, err := b.one(ctx, s)
			if err != nil {
				return err
			}
			per[s] = append(per[s], m)
		}
		run.Reps = r
		tell(b.opt, run.Claim, r)
	}
	run.Figures = indexFigures(per)
	run.Verdicts = indexVerdicts(per)
	return nil
}

// one measures one strategy once: a new partition, loaded and indexed,
// then dropped.
func (b *indexBench) one(ctx context.Context, s string) (strategyRep, error) {
	part := b.ident("ix_" + s + "_part")
	defer b.dropPartition(part)
	var m strategyRep
	t0 := time.Now()
	if err := b.createPartition(ctx, part, s); err != nil {
		return m, err
	}
	m.create = time.Since(t0).Seconds()
	if err := b.load(ctx, s, b.chunks[0]); err != nil {
		return m, err
	}
	m.accepts = time.Since(t0).Seconds()
	var wg sync.WaitGroup
	var lazyErr error
	var lazyDone time.Time
	if s == StrategyLazy {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lazyErr = b.build(ctx, part, s)
			lazyDone = time.Now()
		}()
	}
	loadStart := time.Now()
	var loadErr error
	for _, c := range b.chunks[1:] {
		if loadErr = b.load(ctx, s, c); loadErr != nil {
			break
		}
	}
	loadEnd := time.Now()
	if loadErr == nil && s != StrategyImmediate {
		m.readMissing, loadErr = b.readIfMissing(ctx, part, s)
	}
	wg.Wait()
	if err := errors.Join(loadErr, lazyErr); err != nil {
		return m, err
	}
	m.loadRPS = float64(b.rows-1) / loadEnd.Sub(loadStart).Seconds()
	validAt := t0.Add(time.Duration(m.create * float64(time.Second)))
	switch s {
	case StrategyLazy:
		validAt = lazyDone
	case StrategyDeferred:
		if err := b.build(ctx, part, s); err != nil {
			return m, err
		}
		validAt = time.Now()
	}
	m.valid = validAt.Sub(t0).Seconds()
	m.total = max(loadEnd.Sub(t0), validAt.Sub(t0)).Seconds()
	if err := b.checkValid(ctx, part); err != nil {
		return m, err
	}
	var err error
	m.readIndexed, err = b.read(ctx, s)
	return m, err
}

// build creates every index on part concurrently, one after another, as
// hmperf's worker does; a lock wait that timed out (the load's batches
// hold their locks until they commit) is retried as the lock policy says,
// after dropping the INVALID index the failed build left.
func (b *indexBench) build(ctx context.Context, part, s string) error {
	for i, ix := range b.indexes {
		name := b.ident("ix_" + s + "_part_" + strconv.Itoa(i))
		err := b.opt.LockWait.Run(ctx, "bench: build "+name, nil, func(ctx context.Context) error {
			if _, err := b.pool.Exec(ctx, "DROP INDEX IF EXISTS "+name); err != nil {
				return err
			}
			_, err := b.pool.Exec(ctx, ix.sql(name, part, true))
			return err
		})
		if err != nil {
			return fmt.Errorf("bench: %s build of %s: %w", s, name, err)
		}
	}
	return nil
}

// checkValid fails unless part has every index, valid.
func (b *indexBench) checkValid(ctx context.Context, part string) error {
	var valid int
	err := b.pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE indisvalid) FROM pg_index WHERE indrelid = $1::regclass", part).Scan(&valid)
	if err != nil {
		return fmt.Errorf("bench: indexes of %s: %w", part, err)
	}
	if valid != len(b.indexes) {
		return fmt.Errorf("bench: %s has %d valid indexes of %d", part, valid, len(b.indexes))
	}
	return nil
}

// readIfMissing times the typical read when part still lacks a valid
// index, and returns nil when every index is already valid.
func (b *indexBench) readIfMissing(ctx context.Context, part, s string) (*float64, error) {
	var valid int
	err := b.pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE indisvalid) FROM pg_index WHERE indrelid = $1::regclass", part).Scan(&valid)
	if err != nil || valid == len(b.indexes) {
		return nil, err
	}
	ms, err := b.read(ctx, s)
	return &ms, err
}

// readTries is how many times the typical read runs for one figure; the
// median counts.
const readTries = 3

// read times the table's typical read, a user's latest rows, through
// strategy s's partitioned parent as the service reads, in milliseconds:
// the median of readTries runs.
func (b *indexBench) read(ctx context.Context, s string) (float64, error) {
	sql := "SELECT * FROM " + b.parents[s] + " WHERE user_id = $1 ORDER BY recorded_at DESC LIMIT 10"
	ms := make([]float64, readTries)
	for i := range ms {
		start := time.Now()
		rows, err := b.pool.Query(ctx, sql, b.user)
		if err != nil {
			return 0, fmt.Errorf("bench: typical read: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("bench: typical read: %w", err)
		}
		ms[i] = float64(time.Since(start).Microseconds()) / 1000
		if n == 0 {
			return 0, fmt.Errorf("bench: the typical read found no row of its user in %s", b.parents[s])
		}
	}
	return Median(ms), nil
}

func indexFigures(per map[string][]strategyRep) []Figure {
	var out []Figure
	for _, s := range Strategies {
		reps := per[s]
		pick := func(f func(strategyRep) float64) []float64 {
			xs := make([]float64, len(reps))
			for i, r := range reps {
				xs[i] = f(r)
			}
			return xs
		}
		out = append(out,
			figure(s, "create_seconds", "s", pick(func(r strategyRep) float64 { return r.create })),
			figure(s, "accepts_inserts_seconds", "s", pick(func(r strategyRep) float64 { return r.accepts })),
			figure(s, "load_rows_per_sec", RowsPerSecUnit, pick(func(r strategyRep) float64 { return r.loadRPS })),
			figure(s, "all_indexes_valid_seconds", "s", pick(func(r strategyRep) float64 { return r.valid })),
			figure(s, "total_seconds", "s", pick(func(r strategyRep) float64 { return r.total })),
			figure(s, "read_ms_indexed", "ms", pick(func(r strategyRep) float64 { return r.readIndexed })))
		out = append(out, missingReadFigure(s, reps))
	}
	return out
}

// missingReadFigure is the typical read's latency at the end of the load
// while an index was still missing, over the repetitions where one was.
func missingReadFigure(s string, reps []strategyRep) Figure {
	var xs []float64
	for _, r := range reps {
		if r.readMissing != nil {
			xs = append(xs, *r.readMissing)
		}
	}
	f := figure(s, "read_ms_index_missing", "ms", xs)
	switch {
	case s == StrategyImmediate:
		f.Note = "never measured: the indexes exist from the partition's creation"
	case len(xs) < len(reps):
		f.Note = fmt.Sprintf("measured in %d of %d repetitions: in the rest every index was already valid when the load ended", len(xs), len(reps))
	}
	return f
}

// indexVerdicts judges the report's three figures against the creation
// time they name, and its reductions against that time and against the
// total time to a loaded, fully indexed partition.
func indexVerdicts(per map[string][]strategyRep) []ClaimVerdict {
	claimed := map[string]float64{StrategyImmediate: 45.2, StrategyLazy: 12.8, StrategyDeferred: 2.1}
	var out []ClaimVerdict
	for _, s := range Strategies {
		xs := make([]float64, len(per[s]))
		for i, r := range per[s] {
			xs[i] = r.create
		}
		out = append(out, claimVerdict(s, "create_seconds", ClaimRunWording("create_seconds", s), claimed[s], "s", xs, AtMost, true))
	}
	floor := map[string]float64{StrategyLazy: 60, StrategyDeferred: 90}
	for _, s := range []string{StrategyLazy, StrategyDeferred} {
		imm, other := per[StrategyImmediate], per[s]
		n := min(len(imm), len(other))
		create, total := make([]float64, n), make([]float64, n)
		for i := range n {
			create[i] = (1 - other[i].create/imm[i].create) * 100
			total[i] = (1 - other[i].total/imm[i].total) * 100
		}
		out = append(out,
			claimVerdict(s, "reduction_pct", ClaimRunWording("reduction_pct", s), floor[s], "%", create, AtLeast, false),
			claimVerdict(s+" (total)", "reduction_pct", ClaimRunWording("reduction_pct", s+" (total)"), floor[s], "%", total, AtLeast, false))
	}
	return out
}
