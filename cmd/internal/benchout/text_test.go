package benchout

import "testing"

// TestThousands: integers with comma separators, rounded, signed.
func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 2850: "2,850", 1234567.8: "1,234,568", -1500: "-1,500"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%g) = %q, want %q", in, got, want)
		}
	}
}
