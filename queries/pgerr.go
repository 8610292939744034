package queries

import (
	"errors"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// Code is the SQLSTATE of the server error in err's chain, "" when the
// server did not refuse anything (a lost connection, a cancelled context).
// Callers compare it with github.com/jackc/pgerrcode's constants.
func Code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// IsPrivilege reports whether the server refused err for a privilege the
// role lacks.
func IsPrivilege(err error) bool { return Code(err) == pgerrcode.InsufficientPrivilege }

// IsUndefined reports whether err names an object that does not exist: a
// table, function, schema or column.
func IsUndefined(err error) bool {
	switch Code(err) {
	case pgerrcode.UndefinedTable, pgerrcode.UndefinedFunction, pgerrcode.InvalidSchemaName, pgerrcode.UndefinedColumn:
		return true
	}
	return false
}

// IsDataRefusal reports whether the server refused a value: a CHECK, a NOT
// NULL or a foreign key, or a malformed or out-of-range datum (class 22).
func IsDataRefusal(err error) bool {
	switch code := Code(err); code {
	case pgerrcode.CheckViolation, pgerrcode.NotNullViolation, pgerrcode.ForeignKeyViolation:
		return true
	default:
		return pgerrcode.IsDataException(code)
	}
}

// Plain is err's text with every server error in it written as people
// read it, its message and detail without "ERROR:" and the SQLSTATE, on
// one line.
func Plain(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		plain := pe.Message
		if pe.Detail != "" {
			plain += " (" + pe.Detail + ")"
		}
		msg = strings.Replace(msg, pe.Error(), plain, 1)
	}
	return strings.ReplaceAll(msg, "\n", " ")
}
