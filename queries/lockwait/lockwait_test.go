package lockwait

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestDelay(t *testing.T) {
	p := Policy{First: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := p.Delay(i + 1); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
	if got := (Policy{}).Delay(1); got != defaultFirst {
		t.Errorf("zero policy: Delay(1) = %s, want %s", got, defaultFirst)
	}
	if got := (Policy{}).Delay(60); got != defaultMax {
		t.Errorf("zero policy: Delay(60) = %s, want the cap %s", got, defaultMax)
	}
}

func TestSchedule(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		p      Policy
		lockTO time.Duration
		want   []time.Duration
	}{
		{"single attempt", Policy{Budget: -1}, time.Second, nil},
		{"budget shorter than one wait", Policy{Budget: 500 * ms}, time.Second, nil},
		// 1s wait, +250ms pause, 1s, +500ms, 1s, +1s: 4.75s elapsed, the
		// next pause of 2s would end past 6s.
		{"six seconds", Policy{Budget: 6 * time.Second, First: 250 * ms, Max: 5 * time.Second}, time.Second,
			[]time.Duration{250 * ms, 500 * ms, time.Second}},
		{"capped", Policy{Budget: 10 * time.Second, First: time.Second, Max: time.Second}, time.Second,
			[]time.Duration{time.Second, time.Second, time.Second, time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Schedule(tc.lockTO)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Schedule = %v, want %v", got, tc.want)
			}
		})
	}
	// The default policy keeps retrying for its whole two minutes, every
	// pause at most five seconds.
	s := Policy{}.Schedule(time.Second)
	var total time.Duration
	for _, d := range s {
		total += d + time.Second
		if d > defaultMax {
			t.Errorf("pause %s above the cap", d)
		}
	}
	if total < DefaultBudget-defaultMax-2*time.Second || total > DefaultBudget {
		t.Errorf("default schedule spans %s of %s (%d pauses)", total, DefaultBudget, len(s))
	}
}

func TestBlockerString(t *testing.T) {
	tests := []struct {
		b    Blocker
		want string
	}{
		{Blocker{PID: 4242, User: "svc", App: "health-ingest", State: "idle in transaction", For: 12400 * time.Millisecond,
			Query: "\n  UPDATE users SET email = $1\n WHERE id = $2"},
			`pid 4242 (user svc, application "health-ingest", idle in transaction for 12s): UPDATE users SET email = $1`},
		{Blocker{PID: 7, For: time.Second},
			`pid 7 (user unknown, application "", unknown for 1s)`},
		{Blocker{PID: 8, User: "u", App: "a", State: "active", Query: strings.Repeat("x", 100)},
			`pid 8 (user u, application "a", active for 0s): ` + strings.Repeat("x", 80) + "…"},
	}
	for _, tc := range tests {
		if got := tc.b.String(); got != tc.want {
			t.Errorf("String() =\n %s\nwant\n %s", got, tc.want)
		}
	}
	two := Describe([]Blocker{{PID: 1, User: "a", App: "x", State: "active"}, {PID: 2, User: "b", App: "y", State: "idle"}})
	if !strings.Contains(two, "pid 1 ") || !strings.Contains(two, "; pid 2 ") {
		t.Errorf("Describe of two: %s", two)
	}
	if none := Describe(nil); !strings.Contains(none, "could not see") {
		t.Errorf("Describe(nil) = %s", none)
	}
}

func TestIsLockTimeout(t *testing.T) {
	lock := &pgconn.PgError{Code: pgerrcode.LockNotAvailable, Message: "canceling statement due to lock timeout"}
	if !IsLockTimeout(fmt.Errorf("step: %w", lock)) {
		t.Error("wrapped 55P03 not recognised")
	}
	if !IsLockTimeout(errors.Join(errors.New("unlock failed"), lock)) {
		t.Error("joined 55P03 not recognised")
	}
	if IsLockTimeout(&pgconn.PgError{Code: pgerrcode.QueryCanceled}) || IsLockTimeout(errors.New("x")) || IsLockTimeout(nil) {
		t.Error("other errors taken for a lock timeout")
	}
}

func TestExhaustedErrorOneLine(t *testing.T) {
	e := &ExhaustedError{What: "apply migration 0020", Attempts: 3, Waited: 4200 * time.Millisecond,
		Blockers: []Blocker{{PID: 99, User: "svc", App: "svc-app", State: "idle in transaction", For: 9 * time.Second, Query: "UPDATE users\nSET x=1"}}}
	msg := e.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	for _, want := range []string{"apply migration 0020", "4.2s", "3 lock waits", "pid 99", `"svc-app"`, "UPDATE users", "--lock-wait"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}
