package pglaunch

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CreateStatStatements creates the pg_stat_statements extension in conn's
// database when its server preloaded the library, and does nothing when it
// did not. It is for the servers this package starts, which hmperf owns; on
// a user's database hmperf never creates an extension.
func CreateStatStatements(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `DO $$ BEGIN
		IF 'pg_stat_statements' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) THEN
			CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
		END IF; END $$`)
	return err
}
