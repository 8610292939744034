package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// State is one rollout as hmperf.rollouts holds it.
type State struct {
	ID           int64      `json:"id"`
	Schema       string     `json:"schema"`
	Table        string     `json:"table"`
	Phase        string     `json:"phase"`
	Key          []string   `json:"key"`
	HighWater    []string   `json:"high_water"`
	BackfillDone bool       `json:"backfill_done"`
	Copied       int64      `json:"rows_copied"`
	Estimate     int64      `json:"rows_estimate"`
	EnumTypes    []string   `json:"enum_types"`
	Views        []View     `json:"views"`
	Forced       string     `json:"forced,omitempty"`
	Quarantine   string     `json:"quarantine,omitempty"`
	Quarantined  int64      `json:"quarantined"`
	Throttle     string     `json:"throttle,omitempty"`
	Rate         *float64   `json:"rows_per_second,omitempty"`
	LockHeldMS   *float64   `json:"lock_held_ms,omitempty"`
	StartedAt    time.Time  `json:"started_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	SwappedAt    *time.Time `json:"swapped_at,omitempty"`
	// Backlog is how many change-log entries wait to be applied.
	Backlog int64 `json:"log_backlog"`
}

func (s *State) names() names { return names{schema: s.Schema, table: s.Table} }

const stateColumns = `id, table_schema, table_name, phase, key_columns, high_water, backfill_done, rows_copied,
	rows_estimate, enum_types, views, coalesce(forced, ''), coalesce(quarantine, ''), quarantined, coalesce(throttle, ''), rate,
	lock_held_ms, started_at, updated_at, swapped_at`

func scanState(row pgx.Row) (*State, error) {
	s := &State{}
	err := row.Scan(&s.ID, &s.Schema, &s.Table, &s.Phase, &s.Key, &s.HighWater, &s.BackfillDone, &s.Copied,
		&s.Estimate, &s.EnumTypes, &s.Views, &s.Forced, &s.Quarantine, &s.Quarantined, &s.Throttle, &s.Rate,
		&s.LockHeldMS, &s.StartedAt, &s.UpdatedAt, &s.SwappedAt)
	return s, err
}

// Open returns the rollout of table in flight (started or swapped), with
// its log backlog, or an error wrapping ErrNoRollout.
func Open(ctx context.Context, db queries.DBTX, table string) (*State, error) {
	s, err := scanState(db.QueryRow(ctx, `SELECT `+stateColumns+` FROM hmperf.rollouts
		WHERE table_name = $1 AND phase IN ('started', 'swapped')`, table))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("rollout of %s: %w (start one with `hmperf rollout start %s`)", table, ErrNoRollout, table)
	}
	if err != nil {
		return nil, fmt.Errorf("rollout: read the state of %s: %w", table, err)
	}
	if err := db.QueryRow(ctx, "SELECT count(*) FROM "+s.names().log().Sanitize()).Scan(&s.Backlog); err != nil {
		return nil, fmt.Errorf("rollout: read the change log of %s: %w", table, err)
	}
	return s, nil
}

// Latest returns the newest rollout of table, whatever its phase, or nil.
func Latest(ctx context.Context, db queries.DBTX, table string) (*State, error) {
	s, err := scanState(db.QueryRow(ctx, `SELECT `+stateColumns+` FROM hmperf.rollouts
		WHERE table_name = $1 ORDER BY id DESC LIMIT 1`, table))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rollout: read the state of %s: %w", table, err)
	}
	return s, nil
}

// InFlight lists every rollout started or swapped, for the dashboard.
func InFlight(ctx context.Context, db queries.DBTX) ([]State, error) {
	rows, err := db.Query(ctx, `SELECT `+stateColumns+` FROM hmperf.rollouts WHERE phase IN ('started', 'swapped') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("rollout: read the rollouts in flight: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (State, error) {
		s, err := scanState(r)
		if err != nil {
			return State{}, err
		}
		return *s, nil
	})
}

func setPhase(ctx context.Context, tx pgx.Tx, id int64, phase string) error {
	_, err := tx.Exec(ctx, `UPDATE hmperf.rollouts SET phase = $2, updated_at = clock_timestamp(),
		ended_at = CASE WHEN $2 IN ('reverted', 'finished') THEN clock_timestamp() END WHERE id = $1`, id, phase)
	return err
}
