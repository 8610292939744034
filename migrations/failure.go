package migrations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Failure explains a failed migration. hmperf's own steps never
// leave the database dirty (each commits with its version or not at all);
// a database another tool left dirty gets the recovery its catalogue says.
// Interrupted (Ctrl-C, SIGTERM), it says which step was rolled back and
// where the schema stands.
func Failure(ctx context.Context, m *Migrator, action string, cause error) error {
	st, err := m.Status()
	switch {
	case err != nil:
		return fmt.Errorf("migrate %s failed: %v", action, cause)
	case ctx.Err() != nil:
		return fmt.Errorf("migrate %s interrupted: the step in progress was rolled back (%v); schema version %s, database %s; the same command goes on from there",
			action, stepOf(cause), VersionText(st), st.Summary)
	case st.Dirty:
		return fmt.Errorf("migrate %s failed: %v; the database is %s: %s", action, cause, st.Summary, st.Next)
	}
	return fmt.Errorf("migrate %s failed: %v", action, cause)
}

// stepOf names the statement a cancelled step was running, else the cause.
func stepOf(cause error) string {
	var se *StatementError
	if errors.As(cause, &se) {
		return fmt.Sprintf("%s line %d: %s", se.File, se.Line, se.Statement)
	}
	return cause.Error()
}

// VersionText is the schema version as status lines show it: "none
// (empty)", or the number, marked DIRTY when a migration failed halfway.
func VersionText(st Status) string {
	if !st.HasVersion {
		return "none (empty)"
	}
	s := strconv.FormatUint(uint64(st.Version), 10)
	if st.Dirty {
		s += " (DIRTY)"
	}
	return s
}
