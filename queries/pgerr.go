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

// Kind is what a server error means to hmperf: the one place SQLSTATEs are
// read, so every command and panel words the same refusal the same way.
type Kind int

// The kinds Classify tells apart. KindNone is no server error at all (nil,
// a lost socket, a cancelled context); KindOther a refusal of no kind here.
const (
	KindNone Kind = iota
	KindOther
	KindUnique
	KindCheck
	KindForeignKey
	KindNotNull
	KindIntegrity // the rest of class 23 (exclusion, restrict)
	KindData      // class 22: a malformed or out-of-range datum
	KindLockTimeout
	KindPrivilege
	KindUndefined
	KindReadOnly
	KindConnection // class 08, or the server shutting down or starting up
	KindCanceled   // statement_timeout or a cancel request
	KindDeadlock
	KindSerialization
	KindBusy        // too many connections
	KindInterrupted // the rest of class 57 (operator intervention)
)

var kindWords = [...]string{
	KindNone: "no server error", KindOther: "server error", KindUnique: "unique violation",
	KindCheck: "check violation", KindForeignKey: "foreign key violation", KindNotNull: "not-null violation",
	KindIntegrity: "integrity violation", KindData: "invalid value", KindLockTimeout: "lock timeout",
	KindPrivilege: "insufficient privilege", KindUndefined: "undefined object", KindReadOnly: "read-only transaction",
	KindConnection: "connection failure", KindCanceled: "statement canceled", KindDeadlock: "deadlock", KindSerialization: "serialization failure",
	KindBusy: "too many connections", KindInterrupted: "operator intervention",
}

// String is the kind in words, as error messages name it.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindWords) {
		return "server error"
	}
	return kindWords[k]
}

// Integrity reports whether k is a refusal by an integrity constraint
// (SQLSTATE class 23): the database's own constraint failures.
func (k Kind) Integrity() bool {
	switch k {
	case KindUnique, KindCheck, KindForeignKey, KindNotNull, KindIntegrity:
		return true
	}
	return false
}

// Transient reports whether a later attempt may not meet k: the connection
// went away or timed out, the server was busy, shutting down or starting
// up, or the statement lost a deadlock or serialization race.
func (k Kind) Transient() bool {
	switch k {
	case KindConnection, KindCanceled, KindDeadlock, KindSerialization, KindBusy, KindInterrupted:
		return true
	}
	return false
}

// Classify is the kind of the server error in err's chain.
func Classify(err error) Kind {
	if err == nil {
		return KindNone
	}
	return KindOf(Code(err))
}

// KindOf is the kind of a SQLSTATE, as stored with a rejected row; "" is
// KindNone.
func KindOf(code string) Kind {
	switch code {
	case "":
		return KindNone
	case pgerrcode.UniqueViolation:
		return KindUnique
	case pgerrcode.CheckViolation:
		return KindCheck
	case pgerrcode.ForeignKeyViolation:
		return KindForeignKey
	case pgerrcode.NotNullViolation:
		return KindNotNull
	case pgerrcode.LockNotAvailable:
		return KindLockTimeout
	case pgerrcode.InsufficientPrivilege:
		return KindPrivilege
	case pgerrcode.UndefinedTable, pgerrcode.UndefinedFunction, pgerrcode.InvalidSchemaName, pgerrcode.UndefinedColumn:
		return KindUndefined
	case pgerrcode.ReadOnlySQLTransaction:
		return KindReadOnly
	case pgerrcode.AdminShutdown, pgerrcode.CrashShutdown, pgerrcode.CannotConnectNow:
		return KindConnection
	case pgerrcode.QueryCanceled:
		return KindCanceled
	case pgerrcode.DeadlockDetected:
		return KindDeadlock
	case pgerrcode.SerializationFailure:
		return KindSerialization
	case pgerrcode.TooManyConnections:
		return KindBusy
	}
	switch {
	case pgerrcode.IsIntegrityConstraintViolation(code):
		return KindIntegrity
	case pgerrcode.IsDataException(code):
		return KindData
	case pgerrcode.IsConnectionException(code):
		return KindConnection
	case pgerrcode.IsOperatorIntervention(code):
		return KindInterrupted
	}
	return KindOther
}

// IsPrivilege reports whether the server refused err for a privilege the
// role lacks.
func IsPrivilege(err error) bool { return Classify(err) == KindPrivilege }

// IsUndefined reports whether err names an object that does not exist: a
// table, function, schema or column.
func IsUndefined(err error) bool { return Classify(err) == KindUndefined }

// IsLockTimeout reports whether err is lock_timeout (or NOWAIT) giving up.
func IsLockTimeout(err error) bool { return Classify(err) == KindLockTimeout }

// IsDataRefusal reports whether the server refused a value: a CHECK, a NOT
// NULL or a foreign key, or a malformed or out-of-range datum (class 22).
func IsDataRefusal(err error) bool {
	switch Classify(err) {
	case KindCheck, KindNotNull, KindForeignKey, KindData:
		return true
	}
	return false
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
