package format

import (
	"testing"
	"time"
)

func TestInt(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567"} {
		if got := Int(in); got != want {
			t.Errorf("Int(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestSignedPctAndTruncate(t *testing.T) {
	if got := SignedPct(3.25); got != "+3.2%" && got != "+3.3%" {
		t.Errorf("SignedPct(3.25) = %q", got)
	}
	if got := SignedPct(-4); got != "-4.0%" {
		t.Errorf("SignedPct(-4) = %q", got)
	}
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Stamp(time.Time{}); got != "-" {
		t.Errorf("Stamp(zero) = %q", got)
	}
}
