package rollout

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options are the knobs of start.
type Options struct {
	// BatchRows is how many live rows each backfill transaction copies,
	// and how many log entries each apply takes.
	BatchRows int
	// MaxLag pauses the backfill while a replica replays more than this
	// far behind (pg_stat_replication.replay_lag); 0: no limit.
	MaxLag time.Duration
	// MaxLoad pauses it while more than this many other sessions of the
	// database are active (running a statement); 0: no limit.
	MaxLoad int
	// Pause is how long a throttled backfill waits before it looks again.
	Pause time.Duration
	// Force starts although the gate does not hold; the reason is stored.
	Force bool
	// Quarantine moves the rows the new layout refuses to a table of
	// hmperf's instead of refusing to start.
	Quarantine bool
	// Log receives one progress line every Every, and a line whenever
	// the throttle changes; nil: none.
	Log   io.Writer
	Every time.Duration
	// OnBatch, if set, is called after every committed backfill batch
	// with the rows copied so far (tests stop a backfill there).
	OnBatch func(copied int64)
}

func (o Options) batch() int {
	if o.BatchRows <= 0 {
		return 1000
	}
	return o.BatchRows
}

func (o Options) pause() time.Duration {
	if o.Pause <= 0 {
		return 500 * time.Millisecond
	}
	return o.Pause
}

func (o Options) every() time.Duration {
	if o.Every <= 0 {
		return 2 * time.Second
	}
	return o.Every
}

// copier copies live rows into the twin in key order.
type copier struct {
	n      names
	key    []string
	types  []string // live key types
	first  string   // the first batch's statement
	next   string   // a later batch's, after the high-water key $1
	batchN int
}

func newCopier(d *Design, batch int) *copier {
	c := &copier{n: d.names(), key: d.Key, batchN: batch}
	for _, k := range d.Key {
		for _, col := range d.Columns {
			if col.Name == k {
				c.types = append(c.types, col.Type)
			}
		}
	}
	c.first = c.sql(d, "")
	c.next = c.sql(d, c.after())
	return c
}

// after is the keyset condition: the row's key is past $1 (text[]).
func (c *copier) after() string {
	cols, vals := make([]string, len(c.key)), make([]string, len(c.key))
	for i, k := range c.key {
		cols[i] = "l." + pgx.Identifier{k}.Sanitize()
		vals[i] = fmt.Sprintf("($1::text[])[%d]::%s", i+1, c.types[i])
	}
	return "WHERE (" + strings.Join(cols, ", ") + ") > (" + strings.Join(vals, ", ") + ")"
}

// plainSQL copies every live row into the twin in one statement.
func (c *copier) plainSQL(d *Design) string {
	cols, conv := c.columns(d)
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s b", c.n.twin().Sanitize(), strings.Join(cols, ", "), strings.Join(conv, ", "), c.n.live().Sanitize())
}

// columns lists the twin's columns to write and the expressions that
// read them from live row b, the enum columns converted.
func (c *copier) columns(d *Design) (cols, conv []string) {
	for _, col := range d.Columns {
		if col.Generated {
			continue
		}
		id := pgx.Identifier{col.Name}.Sanitize()
		cols = append(cols, id)
		if e, ok := d.enumOf(col.Name); ok {
			conv = append(conv, fmt.Sprintf("b.%s::text::%s", id, pgx.Identifier{NewSchema, e.Type}.Sanitize()))
		} else {
			conv = append(conv, "b."+id)
		}
	}
	return cols, conv
}

func (c *copier) sql(d *Design, where string) string {
	cols, conv := c.columns(d)
	var order, desc, last []string
	for _, k := range c.key {
		id := pgx.Identifier{k}.Sanitize()
		order, desc, last = append(order, "l."+id), append(desc, id+" DESC"), append(last, id+"::text")
	}
	limit := "$1"
	if where != "" {
		limit = "$2"
	}
	return fmt.Sprintf(`
WITH b AS (SELECT l.* FROM %s l %s ORDER BY %s LIMIT %s),
ins AS (INSERT INTO %s (%s) SELECT %s FROM b ON CONFLICT DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM ins), (SELECT ARRAY[%s] FROM b ORDER BY %s LIMIT 1)`,
		c.n.live().Sanitize(), where, strings.Join(order, ", "), limit,
		c.n.twin().Sanitize(), strings.Join(cols, ", "), strings.Join(conv, ", "),
		strings.Join(last, ", "), strings.Join(desc, ", "))
}

// batch copies the next batch after hw in tx; it returns the rows read,
// the rows inserted and the new high-water key (nil when nothing was read).
func (c *copier) batch(ctx context.Context, tx pgx.Tx, hw []string) (read, inserted int64, next []string, err error) {
	// The high-water key is stored as text: printed the same way by
	// every session that resumes.
	// enable_sort off: the keyset bound is not a constant at plan time,
	// and with it the planner may sort every remaining row of every
	// partition for each batch instead of merging the partitions'
	// primary-key indexes, which makes the backfill quadratic. jit off:
	// the cost that disabling adds would make every batch compile its
	// plan (seconds per batch, measured).
	if err = exec(ctx, tx, `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, MDY', true),
		set_config('enable_sort', 'off', true), set_config('jit', 'off', true)`); err != nil {
		return
	}
	var row pgx.Row
	if hw == nil {
		row = tx.QueryRow(ctx, c.first, c.batchN)
	} else {
		row = tx.QueryRow(ctx, c.next, hw, c.batchN)
	}
	err = row.Scan(&read, &inserted, &next)
	return
}

// throttleSQL reads what the backfill waits for: the replicas' replay lag
// in seconds, the lock requests waiting on the live table or its
// partitions, and the other active sessions of the database.
const throttleSQL = `
SELECT coalesce((SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication), 0)::float8,
       (SELECT count(*) FROM pg_locks l
         WHERE NOT l.granted AND l.relation IN (SELECT $1::oid UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = $1)),
       (SELECT count(*) FROM pg_stat_activity a
         WHERE a.datname = current_database() AND a.state = 'active' AND a.backend_type = 'client backend'
           AND a.pid <> pg_backend_pid() AND a.application_name <> current_setting('application_name'))`

// Throttle is one reading of what the backfill throttles on.
type Throttle struct {
	Lag     time.Duration `json:"replica_lag"`
	Waiting int64         `json:"lock_waiters"`
	Active  int64         `json:"active_sessions"`
}

func readThrottle(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, oid uint32) (Throttle, error) {
	var t Throttle
	var lag float64
	err := db.QueryRow(ctx, throttleSQL, oid).Scan(&lag, &t.Waiting, &t.Active)
	t.Lag = time.Duration(lag * float64(time.Second))
	return t, err
}

// why says why the backfill must pause now, "" when it may go on.
func (t Throttle) why(o Options) string {
	var out []string
	if o.MaxLag > 0 && t.Lag > o.MaxLag {
		out = append(out, fmt.Sprintf("replica lag %s above --max-lag %s", t.Lag.Round(time.Millisecond), o.MaxLag))
	}
	if t.Waiting > 0 {
		out = append(out, fmt.Sprintf("%d lock %s waiting on the table", t.Waiting, plural(t.Waiting, "request", "requests")))
	}
	if o.MaxLoad > 0 && t.Active > int64(o.MaxLoad) {
		out = append(out, fmt.Sprintf("%d active sessions above --max-load %d", t.Active, o.MaxLoad))
	}
	return strings.Join(out, "; ")
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
