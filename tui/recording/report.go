package recording

import (
	"slices"
	"time"

	"hmperf/tui/source"
)

// Report is what happened in a window of a recording.
type Report struct {
	From    time.Time     `json:"from"`
	To      time.Time     `json:"to"`
	Samples int           `json:"samples"`
	Tables  []TableReport `json:"tables"`
	Alerts  []AlertSpan   `json:"alerts"`
	// WorstLag is the largest replication lag any server showed; nil
	// when none showed one.
	WorstLag *Lag `json:"worst_replication_lag"`
	// LongestLockWait is the longest wait for a lock any session showed;
	// nil when none waited.
	LongestLockWait *LockWait   `json:"longest_lock_wait"`
	Benchmarks      []BenchSeen `json:"benchmarks"`
}

// TableReport is one table's rows written during the window, as the
// Constraints panel counted them (the service's sampled writes and
// hmperf's own), and the fastest rate between two samples.
type TableReport struct {
	Table          string  `json:"table_name"`
	ObservedRows   int64   `json:"observed_rows"`
	PeakRowsPerSec float64 `json:"peak_rows_per_sec"`
}

// AlertSpan is one alert firing: when it fired (as the alert function
// dates it) and the first sample without it; ClearedAt is nil when it
// still fired at the window's end.
type AlertSpan struct {
	Name      string     `json:"name"`
	Severity  string     `json:"severity"`
	Table     string     `json:"table_name"`
	FiredAt   time.Time  `json:"fired_at"`
	ClearedAt *time.Time `json:"cleared_at"`
}

// Lag is a replication lag a server showed at a time.
type Lag struct {
	Server  string    `json:"server"`
	At      time.Time `json:"at"`
	Seconds *float64  `json:"seconds"`
	Bytes   *float64  `json:"bytes"`
}

// LockWait is a session's wait for a lock, with the root blocker of the
// sessions it waited for.
type LockWait struct {
	At        time.Time `json:"at"`
	PID       int       `json:"pid"`
	Seconds   float64   `json:"seconds"`
	Query     string    `json:"query"`
	RootPID   int       `json:"root_pid"`
	RootQuery string    `json:"root_query"`
	RootState string    `json:"root_state"`
}

// BenchSeen is a benchmark run that started within the window.
type BenchSeen struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Table  string    `json:"table"`
	Status string    `json:"status"`
}

// Summarize reports the records from from to to (zero: unbounded),
// records in the order they were written.
func Summarize(records []Record, from, to time.Time) Report {
	var in []Record
	for _, r := range records {
		if (from.IsZero() || !r.At.Before(from)) && (to.IsZero() || !r.At.After(to)) {
			in = append(in, r)
		}
	}
	rep := Report{From: from, To: to, Samples: len(in), Tables: []TableReport{}, Alerts: []AlertSpan{}, Benchmarks: []BenchSeen{}}
	if len(in) == 0 {
		return rep
	}
	rep.From, rep.To = in[0].At, in[len(in)-1].At
	rep.Tables = tables(in)
	rep.Alerts = alertSpans(in)
	rep.WorstLag = worstLag(in)
	rep.LongestLockWait = longestWait(in)
	rep.Benchmarks = benchmarks(in, rep.From, rep.To)
	return rep
}

// tables sums, per table, what each hourly bucket gained between its
// first and last sample; a bucket first seen after the first sample that
// read the Constraints panel was empty before it.
func tables(in []Record) []TableReport {
	type key struct {
		table string
		hour  time.Time
	}
	first, last := map[key]int64{}, map[key]int64{}
	type point struct {
		at   time.Time
		rows int64
	}
	series := map[string][]point{}
	seenOne := false
	var readable []time.Time
	for _, r := range in {
		if r.Constraints == nil && r.Errors["constraints"] != "" {
			continue
		}
		totals := map[string]int64{}
		for _, c := range r.Constraints {
			k := key{c.Table, c.HourBucket.UTC()}
			if _, ok := first[k]; !ok {
				if seenOne {
					first[k] = 0
				} else {
					first[k] = c.Rows
				}
			}
			last[k] = c.Rows
			totals[c.Table] += c.Rows
		}
		for table, n := range totals {
			if len(series[table]) == 0 {
				// Before a table's first row the panel had nothing
				// of it: zero rows, from which its first rows rose.
				for _, at := range readable {
					series[table] = append(series[table], point{at, 0})
				}
			}
			series[table] = append(series[table], point{r.At, n})
		}
		for table, s := range series {
			if _, ok := totals[table]; !ok && s[len(s)-1].at != r.At {
				series[table] = append(series[table], point{r.At, 0})
			}
		}
		readable = append(readable, r.At)
		seenOne = true
	}
	sums := map[string]int64{}
	for k, n := range last {
		sums[k.table] += n - first[k]
	}
	out := []TableReport{}
	for table, n := range sums {
		tr := TableReport{Table: table, ObservedRows: n}
		s := series[table]
		for i := 1; i < len(s); i++ {
			// Buckets leave the panel's window as hours pass; a drop in
			// the total is that, not negative writes.
			if dt := s[i].at.Sub(s[i-1].at).Seconds(); dt > 0 && s[i].rows >= s[i-1].rows {
				tr.PeakRowsPerSec = max(tr.PeakRowsPerSec, float64(s[i].rows-s[i-1].rows)/dt)
			}
		}
		out = append(out, tr)
	}
	slices.SortFunc(out, func(a, b TableReport) int {
		if a.Table < b.Table {
			return -1
		}
		if a.Table > b.Table {
			return 1
		}
		return 0
	})
	return out
}

// alertSpans follows each alert (by name and subject) across the samples
// that read the alerts.
func alertSpans(in []Record) []AlertSpan {
	type key struct{ name, table string }
	open := map[key]int{}
	var out []AlertSpan
	for _, r := range in {
		if r.Errors["alerts"] != "" {
			continue
		}
		now := map[key]bool{}
		for _, a := range r.Alerts {
			k := key{a.Name, a.Table}
			now[k] = true
			if i, ok := open[k]; ok {
				if a.Severity == source.Critical {
					out[i].Severity = string(a.Severity)
				}
				continue
			}
			fired := a.FiringSince
			if fired.IsZero() {
				fired = r.At
			}
			open[k] = len(out)
			out = append(out, AlertSpan{Name: a.Name, Severity: string(a.Severity), Table: a.Table, FiredAt: fired.UTC()})
		}
		for k, i := range open {
			if !now[k] {
				at := r.At
				out[i].ClearedAt = &at
				delete(open, k)
			}
		}
	}
	if out == nil {
		return []AlertSpan{}
	}
	return out
}

func worstLag(in []Record) *Lag {
	var worst *Lag
	score := func(l *Lag) (float64, float64) {
		s, b := 0.0, 0.0
		if l.Seconds != nil {
			s = *l.Seconds
		}
		if l.Bytes != nil {
			b = *l.Bytes
		}
		return s, b
	}
	for _, r := range in {
		for _, s := range r.Servers {
			if s.LagSeconds == nil && s.LagBytes == nil {
				continue
			}
			l := &Lag{Server: s.Name, At: r.At, Seconds: s.LagSeconds, Bytes: s.LagBytes}
			if worst == nil {
				worst = l
				continue
			}
			ls, lb := score(l)
			ws, wb := score(worst)
			if ls > ws || ls == ws && lb > wb {
				worst = l
			}
		}
	}
	return worst
}

func longestWait(in []Record) *LockWait {
	var best *LockWait
	for _, r := range in {
		if r.Activity == nil {
			continue
		}
		byPID := map[int]source.Session{}
		for _, s := range r.Activity.Sessions {
			byPID[s.PID] = s
		}
		for _, s := range r.Activity.Sessions {
			wait := s.LockWait
			if wait == nil && len(s.BlockedBy) > 0 {
				wait = s.QueryAge
			}
			if wait == nil || best != nil && *wait <= best.Seconds {
				continue
			}
			root := rootOf(byPID, s)
			best = &LockWait{At: r.At, PID: s.PID, Seconds: *wait, Query: s.Query,
				RootPID: root.PID, RootQuery: root.Query, RootState: root.State}
		}
	}
	return best
}

// rootOf follows s's blockers to a session that waits for none.
func rootOf(byPID map[int]source.Session, s source.Session) source.Session {
	seen := map[int]bool{}
	for len(s.BlockedBy) > 0 && !seen[s.PID] {
		seen[s.PID] = true
		next, ok := byPID[s.BlockedBy[0]]
		if !ok {
			return source.Session{PID: s.BlockedBy[0]}
		}
		for _, b := range s.BlockedBy {
			if n, ok := byPID[b]; ok && n.Root {
				next = n
				break
			}
		}
		s = next
	}
	return s
}

func benchmarks(in []Record, from, to time.Time) []BenchSeen {
	out := []BenchSeen{}
	last := map[int64]int{}
	for _, r := range in {
		if r.Benchmarks == nil {
			continue
		}
		for _, b := range r.Benchmarks.Runs {
			if b.At.Before(from) || b.At.After(to) {
				continue
			}
			if i, ok := last[b.ID]; ok {
				out[i].Status = b.Status
				continue
			}
			last[b.ID] = len(out)
			out = append(out, BenchSeen{ID: b.ID, At: b.At.UTC(), Table: b.Table, Status: b.Status})
		}
	}
	return out
}
