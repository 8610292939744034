package source

// ErrMissing is the answer of a poll that needs a database object the
// database does not have, or that the role may not use: the dashboard shows
// what is missing and how to add it instead of the server's raw error.
type ErrMissing struct {
	// Object is what is missing, in the server's words, e.g.
	// `function check_constraint_performance_alerts() does not exist`.
	Object string
	// Fix is the command (or grant) that adds it, e.g. "hmperf migrate up".
	Fix string
	// Denied says the object exists but the role may not use it.
	Denied bool
}

func (e *ErrMissing) Error() string {
	if e.Fix == "" {
		return e.Object
	}
	return e.Object + "; fix: " + e.Fix
}
