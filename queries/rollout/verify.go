package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/catalog"
)

// Verified is what verify found.
type Verified struct {
	Table string `json:"table"`
	// Serving and Other are the tables compared: the live table and the
	// twin before the swap, the optimized and the original after.
	Serving    string     `json:"serving"`
	Other      string     `json:"other"`
	Partitions []PartDiff `json:"partitions"`
	// InFlight is how many keys were left out of the comparison because
	// the change log still held changes to them when it was read.
	InFlight    int      `json:"keys_in_flight"`
	Differences []string `json:"differences"`
}

// OK reports whether the tables hold the same rows.
func (v *Verified) OK() bool { return len(v.Differences) == 0 }

// PartDiff is the comparison of one partition.
type PartDiff struct {
	Name          string `json:"name"`
	ServingRows   int64  `json:"serving_rows"`
	OtherRows     int64  `json:"other_rows"`
	ServingDigest string `json:"serving_checksum"`
	OtherDigest   string `json:"other_checksum"`
}

// maxDiffs is how many differing keys verify lists per partition.
const maxDiffs = 20

// Verify catches the other table up with the change log, then compares
// it with the serving one in one snapshot, partition by partition: the
// row count and a checksum over every row (the sum of a 64-bit hash of
// each row's text, with every column read as text, so an enum and the
// text it replaced agree), leaving out the keys whose changes are still in
// the log. Where a partition differs it lists the keys that differ.
func (r *Runner) Verify(ctx context.Context, table string) (*Verified, error) {
	st, err := Open(ctx, r.Pool, table)
	if err != nil {
		return nil, err
	}
	n := st.names()
	other := n.twin()
	if st.Phase == PhaseSwapped {
		other = n.old()
	}
	ap, err := r.applier(ctx, n, other, st.Key)
	if err != nil {
		return nil, err
	}
	if err := r.drain(ctx, ap, 1000); err != nil {
		return nil, err
	}
	tx, err := r.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer queries.Rollback(tx)
	if err := exec(ctx, tx, "SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, MDY', true)"); err != nil {
		return nil, err
	}
	out := &Verified{Table: table, Serving: n.live().Sanitize(), Other: other.Sanitize()}
	var pending []string
	if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(array_agg(DISTINCT k::text), '{}') FROM (
		SELECT %s AS k FROM %s WHERE new IS NOT NULL UNION ALL SELECT %s FROM %s WHERE old IS NOT NULL) s`,
		ap.keyOf("new"), n.log().Sanitize(), ap.keyOf("old"), n.log().Sanitize())).Scan(&pending); err != nil {
		return nil, fmt.Errorf("rollout: read the keys in flight: %w", err)
	}
	out.InFlight = len(pending)
	live, err := catalog.Read(ctx, tx, n.live())
	if err != nil {
		return nil, err
	}
	parts := append([]string(nil), live.Children...)
	if !live.Partitioned {
		parts = []string{""}
	}
	c := comparer{key: st.Key, columns: columnNames(live), pending: pending}
	for _, p := range parts {
		a, b := n.live(), other
		if p != "" {
			a, b = pgx.Identifier{n.schema, p}, pgx.Identifier{other[0], p}
		}
		d, diffs, err := c.compare(ctx, tx, p, a, b)
		if err != nil {
			return nil, err
		}
		out.Partitions = append(out.Partitions, d)
		out.Differences = append(out.Differences, diffs...)
	}
	return out, nil
}

func columnNames(t *catalog.Table) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

type comparer struct {
	key, columns []string
	pending      []string
}

func (c comparer) rowText(alias string) string {
	parts := make([]string, len(c.columns))
	for i, col := range c.columns {
		parts[i] = alias + "." + pgx.Identifier{col}.Sanitize() + "::text"
	}
	return "ROW(" + strings.Join(parts, ", ") + ")::text"
}

func (c comparer) keyText(alias string) string {
	parts := make([]string, len(c.key))
	for i, k := range c.key {
		parts[i] = alias + "." + pgx.Identifier{k}.Sanitize() + "::text"
	}
	return "ARRAY[" + strings.Join(parts, ", ") + "]::text"
}

// digestSQL counts and checksums the rows of one table not in flight ($1).
func (c comparer) digestSQL(t pgx.Identifier) string {
	return fmt.Sprintf(`SELECT count(*), coalesce(sum(hashtextextended(%s, 0)::numeric), 0)::text
		FROM ONLY %s t WHERE %s <> ALL ($1::text[])`, c.rowText("t"), t.Sanitize(), c.keyText("t"))
}

func (c comparer) compare(ctx context.Context, tx pgx.Tx, part string, a, b pgx.Identifier) (PartDiff, []string, error) {
	d := PartDiff{Name: part}
	if part == "" {
		d.Name = a.Sanitize()
	}
	if err := tx.QueryRow(ctx, c.digestSQL(a), c.pending).Scan(&d.ServingRows, &d.ServingDigest); err != nil {
		return d, nil, fmt.Errorf("rollout: checksum %s: %w", a.Sanitize(), err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", b.Sanitize()).Scan(&exists); err != nil {
		return d, nil, err
	}
	if !exists {
		return d, []string{fmt.Sprintf("partition %s: missing from %s", d.Name, b[0])}, nil
	}
	if err := tx.QueryRow(ctx, c.digestSQL(b), c.pending).Scan(&d.OtherRows, &d.OtherDigest); err != nil {
		return d, nil, fmt.Errorf("rollout: checksum %s: %w", b.Sanitize(), err)
	}
	if d.ServingRows == d.OtherRows && d.ServingDigest == d.OtherDigest {
		return d, nil, nil
	}
	diffs, err := c.differing(ctx, tx, a, b)
	if err != nil {
		return d, nil, err
	}
	head := fmt.Sprintf("partition %s: %d rows against %d, checksums %s and %s", d.Name, d.ServingRows, d.OtherRows, d.ServingDigest, d.OtherDigest)
	return d, append([]string{head}, diffs...), nil
}

// differing lists up to maxDiffs keys whose rows differ between a and b.
func (c comparer) differing(ctx context.Context, tx pgx.Tx, a, b pgx.Identifier) ([]string, error) {
	sql := fmt.Sprintf(`
		SELECT coalesce(x.k, y.k) || CASE WHEN x.k IS NULL THEN ' only in the other table'
		                                  WHEN y.k IS NULL THEN ' only in the serving table'
		                                  ELSE ' differs' END
		  FROM (SELECT %s AS k, %s AS r FROM ONLY %s t WHERE %s <> ALL ($1::text[])) x
		  FULL JOIN (SELECT %s AS k, %s AS r FROM ONLY %s t WHERE %s <> ALL ($1::text[])) y ON x.k = y.k
		 WHERE x.r IS DISTINCT FROM y.r
		 ORDER BY 1 LIMIT %d`,
		c.keyText("t"), c.rowText("t"), a.Sanitize(), c.keyText("t"),
		c.keyText("t"), c.rowText("t"), b.Sanitize(), c.keyText("t"), maxDiffs)
	rows, err := tx.Query(ctx, sql, c.pending)
	if err != nil {
		return nil, fmt.Errorf("rollout: list the differing rows: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
