package copyenc

import (
	"encoding/binary"
	"math"
	"strconv"
)

// The sign words of PostgreSQL's binary NUMERIC, special values included
// (pgx sends these for NaN and the infinities).
const (
	numPos    = 0x0000
	numNeg    = 0x4000
	numNaN    = 0xc000
	numPosInf = 0xd000
	numNegInf = 0xf000
)

// maxFastScale bounds the scales the fast path handles: 10^s times a value
// below 2^53 must stay an exact float64 power and a uint64 after the
// shift to a whole base-10000 digit.
const maxFastScale = 15

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// AppendNumeric appends v as the body of a binary NUMERIC (no length
// word) holding what PostgreSQL stores when pgx sends v to a column of
// scale scale (-1: unconstrained): pgx sends the shortest decimal that
// reads back as v (strconv's 'f', -1), and the server rounds it half away
// from zero to the column's scale. NaN and the infinities are sent as pgx
// sends them; the server refuses them (or not) as it does pgx's. scratch
// is reused for the slow path and returned.
func AppendNumeric(dst, scratch []byte, v float64, scale int) ([]byte, []byte) {
	switch {
	case v != v:
		return appendNumHeader(dst, 0, 0, numNaN, 0), scratch
	case math.IsInf(v, 1):
		return appendNumHeader(dst, 0, 0, numPosInf, 0), scratch
	case math.IsInf(v, -1):
		return appendNumHeader(dst, 0, 0, numNegInf, 0), scratch
	}
	if scale >= 0 && scale <= maxFastScale {
		if out, ok := appendScaledFast(dst, v, scale); ok {
			return out, scratch
		}
	}
	return appendNumericSlow(dst, scratch, v, scale)
}

// appendScaledFast rounds v·10^scale to a whole number in float64
// arithmetic. That number is the decimal's own rounding unless v·10^scale
// lies within its rounding error of a half: the shortest decimal D of v
// differs from v by at most half an ulp, and the product adds at most
// another, so |x − D·10^scale| ≤ |x|·2^-52; a margin of |x|·2^-50 leaves
// every near tie (0.125 at scale 2, 1.005, whose double lies below it) to
// the exact path.
func appendScaledFast(dst []byte, v float64, scale int) ([]byte, bool) {
	ax := math.Abs(v * pow10[scale])
	if !(ax < 1<<53) {
		return dst, false
	}
	whole := math.Floor(ax)
	frac := ax - whole
	if math.Abs(frac-0.5) <= ax*0x1p-50 {
		return dst, false
	}
	n := uint64(whole)
	if frac > 0.5 {
		n++
	}
	return appendScaled(dst, math.Signbit(v), n, scale), true
}

// appendScaled appends n·10^-scale (negated when neg) with dscale scale,
// in canonical form: no leading or trailing zero digits, zero positive.
func appendScaled(dst []byte, neg bool, n uint64, scale int) []byte {
	if n == 0 {
		return appendNumHeader(dst, 0, 0, numPos, scale)
	}
	shift := (4 - scale%4) % 4
	m := n * uint64(pow10[shift])
	fracGroups := (scale + shift) / 4
	var groups [5]uint16 // least significant first; 10000^5 > 2^64
	k := 0
	for m != 0 {
		groups[k] = uint16(m % 10000)
		m /= 10000
		k++
	}
	low := 0
	for groups[low] == 0 {
		low++
	}
	sign := numPos
	if neg {
		sign = numNeg
	}
	dst = appendNumHeader(dst, k-low, k-1-fracGroups, sign, scale)
	for i := k - 1; i >= low; i-- {
		dst = binary.BigEndian.AppendUint16(dst, groups[i])
	}
	return dst
}

func appendNumHeader(dst []byte, ndigits, weight, sign, dscale int) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(ndigits))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(sign))
	return binary.BigEndian.AppendUint16(dst, uint16(dscale))
}

// appendNumericSlow works on the decimal digits themselves: the shortest
// decimal of v, rounded half away from zero at scale (none when scale is
// -1, the dscale then being the decimal's own).
func appendNumericSlow(dst, scratch []byte, v float64, scale int) ([]byte, []byte) {
	scratch = strconv.AppendFloat(scratch[:0], v, 'f', -1, 64)
	neg := scratch[0] == '-'
	digits := scratch
	if neg {
		digits = digits[1:]
	}
	point := len(digits)
	for i, c := range digits {
		if c == '.' {
			point = i
			break
		}
	}
	// digits becomes the decimal without its point: intLen digits before.
	if point < len(digits) {
		copy(digits[point:], digits[point+1:])
		digits = digits[:len(digits)-1]
	}
	intLen := point
	dscale := len(digits) - intLen
	if scale >= 0 {
		digits, intLen = roundDigits(digits, intLen, scale)
		dscale = scale
	}
	return appendDecimal(dst, neg, digits, intLen, dscale), scratch
}

// roundDigits keeps scale digits after the point of digits (intLen before
// it), rounding half away from zero; a carry out of the first digit adds
// one before it.
func roundDigits(digits []byte, intLen, scale int) ([]byte, int) {
	keep := intLen + scale
	if keep >= len(digits) {
		return digits, intLen
	}
	up := digits[keep] >= '5'
	digits = digits[:keep]
	if !up {
		return digits, intLen
	}
	for i := keep - 1; i >= 0; i-- {
		if digits[i] < '9' {
			digits[i]++
			return digits, intLen
		}
		digits[i] = '0'
	}
	digits = append(digits, 0)
	copy(digits[1:], digits)
	digits[0] = '1'
	return digits, intLen + 1
}

// appendDecimal appends the decimal digits (intLen of them before the
// point, possibly none, and fewer than dscale after it is fine) as a
// canonical NUMERIC of dscale dscale.
func appendDecimal(dst []byte, neg bool, digits []byte, intLen, dscale int) []byte {
	// Base-10000 digit g covers decimal positions [start, start+4) where
	// the first group starts (4 - intLen%4)%4 positions before digits[0].
	lead := (4 - intLen%4) % 4
	total := lead + len(digits)
	groups := (total + 3) / 4
	group := func(g int) uint16 {
		var d uint16
		for p := g * 4; p < g*4+4; p++ {
			d *= 10
			if i := p - lead; i >= 0 && i < len(digits) {
				d += uint16(digits[i] - '0')
			}
		}
		return d
	}
	first, last := 0, groups-1
	for first <= last && group(first) == 0 {
		first++
	}
	for last >= first && group(last) == 0 {
		last--
	}
	if first > last {
		return appendNumHeader(dst, 0, 0, numPos, dscale)
	}
	sign := numPos
	if neg {
		sign = numNeg
	}
	weight := (lead+intLen)/4 - 1 - first
	dst = appendNumHeader(dst, last-first+1, weight, sign, dscale)
	for g := first; g <= last; g++ {
		dst = binary.BigEndian.AppendUint16(dst, group(g))
	}
	return dst
}
