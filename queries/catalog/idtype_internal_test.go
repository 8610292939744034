package catalog

import (
	"testing"

	"hmperf/engine"
)

// TestIDTypeText: an existing user's id, read as text, becomes an engine
// id that writes back as the same live id, for every id type.
func TestIDTypeText(t *testing.T) {
	tests := []struct {
		typ  IDType
		live string
		ok   bool
	}{
		{IDUUID, "b479a3b9-9ef1-4a82-9771-adff57432e18", true},
		{IDText, "b479a3b9-9ef1-4a82-9771-adff57432e18", true},
		{IDText, "alice", false},
		{IDBigint, "42", true},
		{IDBigint, "9223372036854775807", true},
		{IDBigint, "-1", false},
	}
	for _, tt := range tests {
		id, ok := tt.typ.FromText(tt.live)
		if ok != tt.ok {
			t.Errorf("%v %q: ok %v, want %v", tt.typ, tt.live, ok, tt.ok)
			continue
		}
		if ok && tt.typ.Text(id) != tt.live {
			t.Errorf("%v %q: writes back as %q", tt.typ, tt.live, tt.typ.Text(id))
		}
	}
	if got := IDBigint.Text(engine.UUID{0x80, 0, 0, 0, 0, 0, 0, 1}); got != "1" {
		t.Errorf("bigint of a UUID with the top bit set: %q, want the top bit cleared as Value does", got)
	}
}
