package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries"
)

// Users is how hmperf registers the owners of the rows it writes in a live
// users table: ids of the table's type, and a synthetic value for every
// other NOT NULL column without a default that holds text (an email gets
// hmperf-sample-<id>@example.invalid: recognisable, unique per user, and in
// a domain reserved never to resolve).
type Users struct {
	Table    *Table
	ID       IDType
	insert   string
	lock     string
	missing  string
	existing string
}

// MapUsers maps the live users table, or returns a LayoutError naming the
// columns hmperf cannot fill.
func MapUsers(live *Table) (*Users, error) {
	lerr := &LayoutError{Table: live.String()}
	id, ok := live.Column("id")
	if !ok {
		return nil, &LayoutError{Table: live.String(), Problems: []string{"id: no such column (the metric tables' user_id refers to it)"}}
	}
	u := &Users{Table: live}
	var err error
	if u.ID, err = idTypeOf(live.String(), id); err != nil {
		return nil, &LayoutError{Table: live.String(), Problems: []string{"id: " + err.Error()}}
	}
	cols := []string{pgx.Identifier{"id"}.Sanitize()}
	vals := []string{"u.id"}
	for _, c := range live.Columns {
		if c.Name == "id" || c.Filled() {
			continue
		}
		v, ok := synthetic(c)
		if !ok {
			lerr.Problems = append(lerr.Problems, c.Name+": NOT NULL without a default, of type "+c.Type+", and hmperf has no value for it")
			continue
		}
		cols = append(cols, pgx.Identifier{c.Name}.Sanitize())
		vals = append(vals, v)
	}
	if len(lerr.Problems) > 0 {
		return nil, lerr
	}
	// ON CONFLICT without a target: a user that exists is left alone,
	// whichever unique key (id, or a synthetic email) says it exists; its
	// rows then go through the foreign-key check as any other row would.
	u.insert = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM unnest($1::%s[]) AS u(id) ON CONFLICT DO NOTHING",
		live.Ident().Sanitize(), strings.Join(cols, ", "), strings.Join(vals, ", "), u.ID.SQL())
	// The ordinality names each missing id by its position in the array,
	// whatever type the live ids have.
	u.missing = fmt.Sprintf("SELECT u.n FROM unnest($1::%[2]s[]) WITH ORDINALITY AS u(id, n) WHERE NOT EXISTS (SELECT 1 FROM %[1]s t WHERE t.id = u.id) ORDER BY u.n",
		live.Ident().Sanitize(), u.ID.SQL())
	u.existing = fmt.Sprintf("SELECT id::text FROM %s ORDER BY id LIMIT $1", live.Ident().Sanitize())
	u.lock = fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE id = ANY($1::%s[]) ORDER BY id FOR KEY SHARE) locked",
		live.Ident().Sanitize(), u.ID.SQL())
	return u, nil
}

// synthetic is the SQL expression filling a NOT NULL text column for user
// u.id, when the column holds text.
func synthetic(c Column) (string, bool) {
	switch {
	case c.Type == "text", c.Type == "citext", strings.HasPrefix(c.Type, "character varying"):
	default:
		return "", false
	}
	if strings.Contains(c.Name, "email") {
		return `'hmperf-sample-' || u.id::text || '@example.invalid'`, true
	}
	return `'hmperf-sample-' || u.id::text`, true
}

// Insert registers ids, leaving the ones that exist alone.
func (u *Users) Insert(ctx context.Context, db queries.DBTX, ids []engine.UUID) error {
	_, err := u.InsertCounted(ctx, db, ids)
	return err
}

// Create registers ids, leaving the ones that exist alone, and returns
// the ones it added, in the order of ids: what a run that was allowed to
// add users must name.
func (u *Users) Create(ctx context.Context, db queries.DBTX, ids []engine.UUID) ([]engine.UUID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, u.insert+" RETURNING id::text", u.ID.Array(ids))
	if err != nil {
		return nil, err
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	set := make(map[string]struct{}, len(added))
	for _, a := range added {
		set[a] = struct{}{}
	}
	var out []engine.UUID
	for _, id := range ids {
		if _, ok := set[u.ID.Text(id)]; ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// Missing returns the ids the table does not hold, in the order of ids.
func (u *Users) Missing(ctx context.Context, db queries.DBTX, ids []engine.UUID) ([]engine.UUID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, u.missing, u.ID.Array(ids))
	if err != nil {
		return nil, err
	}
	pos, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	out := make([]engine.UUID, len(pos))
	for i, n := range pos {
		out[i] = ids[n-1]
	}
	return out, nil
}

// Existing returns up to limit of the table's users, in id order, as
// engine ids that write back as the same live ids; live ids an engine id
// cannot stand for (a text id that is no UUID) are skipped.
func (u *Users) Existing(ctx context.Context, db queries.DBTX, limit int) ([]engine.UUID, error) {
	rows, err := db.Query(ctx, u.existing, limit)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make([]engine.UUID, 0, len(ids))
	for _, s := range ids {
		if id, ok := u.ID.FromText(s); ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// InsertCounted is Insert that returns how many users it inserted, for
// the record of hmperf's own writes.
func (u *Users) InsertCounted(ctx context.Context, db queries.DBTX, ids []engine.UUID) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := db.Exec(ctx, u.insert, u.ID.Array(ids))
	return tag.RowsAffected(), err
}

// Lock locks ids FOR KEY SHARE, in id order, and reports whether all of
// them exist.
func (u *Users) Lock(ctx context.Context, db queries.DBTX, ids []engine.UUID) (bool, error) {
	if len(ids) == 0 {
		return true, nil
	}
	var n int
	err := db.QueryRow(ctx, u.lock, u.ID.Array(ids)).Scan(&n)
	return n == len(ids), err
}
