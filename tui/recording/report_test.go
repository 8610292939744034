package recording

import (
	"testing"
	"time"

	"hmperf/tui/source"
)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func TestSummarize(t *testing.T) {
	hour := t0.Truncate(time.Hour)
	cons := func(rows ...int64) []source.ConstraintRow {
		out := []source.ConstraintRow{{Table: "symptoms", HourBucket: hour, Rows: rows[0]}}
		if len(rows) > 1 {
			out = append(out, source.ConstraintRow{Table: "symptoms", HourBucket: hour.Add(time.Hour), Rows: rows[1]})
		}
		return out
	}
	lock := source.Alert{Name: "lock_wait_warning", Severity: source.Warning, Table: "session 7 (svc)", FiringSince: at(1)}
	lockCrit := lock
	lockCrit.Severity = source.Critical
	records := []Record{
		{At: at(0), Constraints: cons(500)},
		{At: at(2), Constraints: cons(700), Alerts: []source.Alert{lock},
			Activity: &source.Activity{Sessions: []source.Session{
				{PID: 6, Root: true, State: "idle in transaction", Query: "LOCK t"},
				{PID: 7, BlockedBy: []int{6}, LockWait: ptr(3.0), Query: "INSERT INTO t"}}}},
		{At: at(4), Constraints: append(cons(1700, 40), source.ConstraintRow{Table: "users", HourBucket: hour, Rows: 100}), Alerts: []source.Alert{lockCrit},
			Servers: []source.Server{{Name: "r", LagSeconds: ptr(4.0)}}},
		{At: at(6), Errors: map[string]string{"alerts": "timeout", "constraints": "timeout"}},
		{At: at(8), Constraints: cons(1700, 140), Servers: []source.Server{{Name: "r", LagSeconds: ptr(1.0)}}},
	}
	rep := Summarize(records, time.Time{}, time.Time{})
	if rep.Samples != 5 || !rep.From.Equal(at(0)) || !rep.To.Equal(at(8)) {
		t.Errorf("window %v..%v, %d samples", rep.From, rep.To, rep.Samples)
	}
	// 1200 more in the first hour's bucket, 140 in the next one, first
	// seen after the first sample; fastest: 1040 rows in 2 s.
	// users first shows 100 rows at 4 s, 2 s after a sample without it.
	if len(rep.Tables) != 2 || rep.Tables[0] != (TableReport{"symptoms", 1340, 520}) || rep.Tables[1] != (TableReport{"users", 100, 50}) {
		t.Errorf("tables %+v, want symptoms 1340 rows, peak 520/s; users 100 rows, peak 50/s", rep.Tables)
	}
	if len(rep.Alerts) != 1 || rep.Alerts[0].Severity != "CRITICAL" || !rep.Alerts[0].FiredAt.Equal(at(1)) ||
		rep.Alerts[0].ClearedAt == nil || !rep.Alerts[0].ClearedAt.Equal(at(8)) {
		t.Errorf("alerts %+v, want the lock wait fired at 1 s, CRITICAL, cleared at 8 s (6 s could not read)", rep.Alerts)
	}
	if w := rep.LongestLockWait; w == nil || w.PID != 7 || w.RootPID != 6 || w.Seconds != 3 {
		t.Errorf("longest lock wait %+v, want pid 7 for 3 s behind root 6", w)
	}
	if l := rep.WorstLag; l == nil || *l.Seconds != 4 || !l.At.Equal(at(4)) {
		t.Errorf("worst lag %+v, want 4 s at 4 s", l)
	}
	narrow := Summarize(records, at(3), at(5))
	if narrow.Samples != 1 || len(narrow.Alerts) != 1 || narrow.Alerts[0].ClearedAt != nil || narrow.Tables[0].ObservedRows != 0 {
		t.Errorf("window 3..5 s: %+v", narrow)
	}
}
