package dbtarget

import (
	"strings"
	"testing"
)

// TestRedactDSN: the password of a URL or key=value DSN never survives in
// a message, whichever form the message quotes it in.
func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, msg string }{
		{"postgres://u:s3cret@h/db", "cannot parse postgres://u:s3cret@h/db: bad"},
		{"host=h password=s3cret dbname=x", "failed: password=s3cret"},
		{"host=h password='s3 cret' dbname=x", "failed near 's3 cret'"},
	} {
		if got := RedactDSN(tc.msg, tc.dsn); strings.Contains(got, "s3") {
			t.Errorf("RedactDSN(%q) = %q", tc.msg, got)
		}
	}
}

// TestApplicationName: every connection is labelled "hmperf <command>".
func TestApplicationName(t *testing.T) {
	for in, want := range map[string]string{"": "hmperf", "local": "hmperf local", "hmperf migrate": "hmperf migrate"} {
		if got := ApplicationName(in); got != want {
			t.Errorf("ApplicationName(%q) = %q, want %q", in, got, want)
		}
	}
}
