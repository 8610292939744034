package migrations

// PrivilegeNeed is a privilege a change of the schema needs, as GRANT
// spells it (queries.Privilege has the same fields; migrations imports
// nothing of hmperf's).
type PrivilegeNeed struct{ Kind, Object, Privilege string }

// Needs lists what every change of the schema needs first: the migrator
// opens with CREATE SCHEMA IF NOT EXISTS, which asks for CREATE on the
// database even where the schema exists.
var Needs = []PrivilegeNeed{{Kind: "DATABASE", Privilege: "CREATE"}}
