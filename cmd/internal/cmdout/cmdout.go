// Package cmdout writes the results of hmperf's commands (other than bench,
// see benchout, and alerts, see alertcheck) for people and scripts: the
// text tables and the --json documents of migrate, adopt, ingest, indexes
// and monitor.
package cmdout

import (
	"encoding/json"
	"errors"
	"io"

	"hmperf/queries"
)

// Plural is one for n == 1, else many.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// NonNil is s, or an empty slice for nil, so JSON says [] rather than null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// JSON writes v as one indented JSON document.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// PrivilegeHint is what the error line adds to a refusal for a privilege that no
// command checked beforehand (those name the privilege and the GRANT
// themselves): where the roles and their grants are described.
func PrivilegeHint(err error) string {
	var named *queries.PrivilegeError
	if !queries.IsPrivilege(err) || errors.As(err, &named) {
		return ""
	}
	return "; the role lacks a privilege this command needs: reading needs what README's \"A monitoring role\" grants, writing the role that owns hmperf's schema"
}
