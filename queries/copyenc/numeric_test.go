package copyenc

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// numericText decodes a binary NUMERIC as PostgreSQL prints it: every
// digit to the dscale, with a sign; it fails on a body that is not
// well formed, and reports whether the body is canonical (no leading or
// trailing zero digit, a zero positive with no digits).
func numericText(t testing.TB, b []byte) (string, bool) {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("numeric body of %d bytes", len(b))
	}
	nd := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	switch sign {
	case numNaN:
		return "NaN", nd == 0
	case numPosInf:
		return "Infinity", nd == 0
	case numNegInf:
		return "-Infinity", nd == 0
	}
	if len(b) != 8+2*nd {
		t.Fatalf("numeric of %d digits in %d bytes", nd, len(b))
	}
	digits := make([]int, nd)
	for i := range digits {
		digits[i] = int(binary.BigEndian.Uint16(b[8+2*i:]))
		if digits[i] >= 10000 {
			t.Fatalf("numeric digit %d", digits[i])
		}
	}
	canonical := nd == 0 && sign == numPos || nd > 0 && digits[0] != 0 && digits[nd-1] != 0
	// Exact value: sum digits[i]·10000^(weight-i), printed at dscale.
	v := new(big.Rat)
	for i, d := range digits {
		p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10000), big.NewInt(int64(abs(weight-i))), nil))
		if weight-i < 0 {
			p.Inv(p)
		}
		v.Add(v, p.Mul(p, big.NewRat(int64(d), 1)))
	}
	if sign == numNeg {
		v.Neg(v)
	}
	return v.FloatString(dscale), canonical
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// serverRound is what PostgreSQL stores for the decimal text s in a column
// of scale scale: s rounded half away from zero (-1: s as it is), zero
// without a sign.
func serverRound(t testing.TB, s string, scale int) string {
	t.Helper()
	if scale < 0 || strings.ContainsAny(s, "NI") {
		return s
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	neg := r.Sign() < 0
	r.Abs(r)
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	out := new(big.Rat).SetFrac(q, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	if neg {
		out.Neg(out)
	}
	return out.FloatString(scale)
}

// pgxNumeric is pgx's binary NUMERIC of v, without the length word.
func pgxNumeric(t testing.TB, tm *pgtype.Map, v float64) []byte {
	t.Helper()
	b, err := tm.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, v, nil)
	if err != nil {
		t.Fatalf("pgx encode %v: %v", v, err)
	}
	return b
}

// checkNumeric compares AppendNumeric's bytes for v at scale with pgx's:
// pgx's are not canonical (a leading zero digit, its own dscale) and the
// server rounds them to the column's scale, so the comparison is of the
// value the server stores, printed at its dscale; ours must also be
// canonical.
func checkNumeric(t testing.TB, tm *pgtype.Map, v float64, scale int) {
	t.Helper()
	ours, _ := AppendNumeric(nil, nil, v, scale)
	got, canonical := numericText(t, ours)
	theirs, _ := numericText(t, pgxNumeric(t, tm, v))
	want := serverRound(t, theirs, scale)
	if got != want {
		t.Fatalf("%v (%s) at scale %d: ours %s, pgx's stored as %s", v, strconv.FormatFloat(v, 'g', -1, 64), scale, got, want)
	}
	if !canonical {
		t.Fatalf("%v at scale %d: ours is not canonical: % x", v, scale, ours)
	}
}

// TestNumericEdges: zero, negative zero, the bounds of the engine's
// columns, values that round at the scale (ties both ways, doubles just
// under a tie such as 1.005), many digits, tiny and huge values, and the
// values PostgreSQL refuses (sent as pgx sends them).
func TestNumericEdges(t *testing.T) {
	tm := pgtype.NewMap()
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 0.125, -0.125, 0.005, 1.005, 2.675, 1.115,
		0.0049999999, 0.0050000001, 9.995, 99.995, 999999.995, 999999.99, -999999.99, 20000, 19999.999, 50000,
		1000000, 0.001, 0.0001, 1e-5, 1e-7, 123456.789, 1.23456789012345, 0.1 + 0.2, 1 / 3.0, 2 / 3.0,
		math.Nextafter(0.125, 1), math.Nextafter(0.125, 0), 4503599627370495.5, 9007199254740993,
		1e15, 1e16, 1e20, 1e22, 1e300, math.MaxFloat64, math.SmallestNonzeroFloat64, -math.MaxFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, v := range values {
		for _, scale := range []int{-1, 0, 1, 2, 3, 4, 5, 8, 15, 16, 30} {
			checkNumeric(t, tm, v, scale)
		}
	}
}

// FuzzNumeric compares AppendNumeric with pgx's encoding of random values
// at random scales (after the server's rounding, see checkNumeric).
func FuzzNumeric(f *testing.F) {
	for _, v := range []float64{0, 1.005, -2.675, 0.125, 1e-7, 123456.789, 9.995} {
		f.Add(v, uint8(2))
	}
	tm := pgtype.NewMap()
	f.Fuzz(func(t *testing.T, v float64, s uint8) {
		checkNumeric(t, tm, v, int(s%20)-1)
	})
}
