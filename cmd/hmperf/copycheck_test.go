package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/benchout"
	"hmperf/engine"
	"hmperf/queries/bench"
	"hmperf/queries/catalog"
	"hmperf/queries/pglaunch"
	"hmperf/queries/pgtest"
)

var (
	copyCheckRows = flag.Int("copycheck.rows", 100000, "BenchmarkCopyAgreement: rows per write")
	copyCheckReps = flag.Int("copycheck.reps", 8, "BenchmarkCopyAgreement: interleaved psql \\copy repetitions")
)

// copyCheckSeed is the seed both sides generate their rows from: hmperf
// bench's default --seed.
const copyCheckSeed = 1

// BenchmarkCopyAgreement checks hmperf's COPY benchmark against an
// independent measurement of the same rows, on a fresh migrated database of
// the test cluster (the embedded server's settings, fsync=off):
//
//  1. the built binary runs `hmperf bench --table nutrition --method copy
//     --commit --rows N --json` (binary COPY, committed into scratch copies,
//     --reps auto);
//  2. the same N rows (bench.Generate, the same seed, the same hour the run
//     anchored them to) are written as one CSV per table, in that table's
//     live column order, and psql loads them with `\copy` into the
//     database's own nutrition_metrics and nutrition_metrics_optimized,
//     truncated before every load, interleaved, each load committed, after
//     one untimed load of each; psql's `\timing` times each `\copy`.
//     Interleaved with it, pgx's CopyFrom loads the same rows with its
//     encoding inside the clock (what hmperf's clock held before the COPY
//     data was encoded ahead of it). The CSV is checked to store exactly
//     the rows a binary COPY stores.
//
// It prints both optimized/original ratios with their 95% intervals side by
// side and fails when hmperf's interval lies wholly on the other side of 1
// from psql's median: the two would then disagree in direction. hmperf's
// interval containing 1 (inconclusive) is agreement. Run it alone; the
// figures are only as quiet as the machine:
//
//	go test ./cmd/hmperf -run '^$' -bench CopyAgreement -benchtime 1x -timeout 30m
func BenchmarkCopyAgreement(b *testing.B) {
	psql := psqlPath(b)
	for range b.N {
		dsn := pgtest.NewMigratedDB(b)
		ctx := context.Background()
		hm := runHmperfBench(b, dsn, *copyCheckRows)
		ps, bin := runIndependent(ctx, b, dsn, psql, hm.anchor, *copyCheckRows, *copyCheckReps)
		var out strings.Builder
		printAgreement(&out, hm, ps, bin)
		b.Log("\n" + out.String())
		b.ReportMetric(hm.ratio.Median, "hmperf-ratio")
		b.ReportMetric(ps.ratio.Median, "psql-ratio")
		b.ReportMetric(bin.ratio.Median, "copyfrom-ratio")
		if disagree(hm.ratio, ps.ratio.Median) {
			b.Errorf("hmperf bench (interval %.3f to %.3f) and psql \\copy (median %.3f) disagree in direction", hm.ratio.Low, hm.ratio.High, ps.ratio.Median)
		}
	}
}

// disagree reports whether hmperf's ratio interval lies wholly on the other
// side of 1 from the independent median.
func disagree(hm bench.Interval, independent float64) bool {
	return hm.Bounded && ((hm.Low > 1 && independent < 1) || (hm.High < 1 && independent > 1))
}

func psqlPath(b *testing.B) string {
	dir, err := pglaunch.FindBinDir()
	if err == nil {
		if p := filepath.Join(dir, "psql"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("psql")
	if err != nil {
		b.Skip("psql not found: the check loads the rows with psql's \\copy")
	}
	return p
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// sideResult is one side of the check: the optimized/original ratio of
// rows/s, paired per repetition, with its interval.
type sideResult struct {
	label  string
	ratio  bench.Interval
	detail string
	anchor time.Time // hmperf only: the hour its rows were anchored to
}

// runHmperfBench runs the built binary and reads its JSON. It also returns
// the instant the rows were anchored to: bench anchors them when the run
// starts, and only the hour counts (Generate truncates to it), so the hour
// of the moment before the command and of the run's stored start, when the
// two agree, is the hour of the anchor.
func runHmperfBench(b *testing.B, dsn string, rows int) sideResult {
	args := []string{"bench", "--dsn", dsn, "--table", "nutrition", "--method", "copy", "--commit",
		"--rows", strconv.Itoa(rows), "--seed", strconv.Itoa(copyCheckSeed), "--json"}
	before := time.Now()
	cmd := exec.Command(binPath, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("hmperf bench: %v: %s", err, stderr.Bytes())
	}
	var doc struct {
		RunID       int64                 `json:"run_id"`
		Comparisons []bench.Comparison    `json:"comparisons"`
		Results     []bench.VariantResult `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || len(doc.Comparisons) != 1 {
		b.Fatalf("hmperf bench --json: %v: %s", err, stdout.Bytes())
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	var started time.Time
	if err := conn.QueryRow(context.Background(), "SELECT started_at FROM hmperf.benchmark_runs WHERE id = $1", doc.RunID).Scan(&started); err != nil {
		b.Fatal(err)
	}
	if !started.UTC().Truncate(time.Hour).Equal(before.UTC().Truncate(time.Hour)) {
		b.Fatalf("the run started across an hour boundary (%s to %s): the generated rows' hour is unknown; run again", before, started)
	}
	c := doc.Comparisons[0]
	iv := bench.Interval{Median: c.RatioMedian, Reps: c.Reps}
	if c.RatioLow != nil && c.RatioHigh != nil {
		iv.Low, iv.High, iv.Bounded = *c.RatioLow, *c.RatioHigh, true
	}
	medians := map[bench.Variant]float64{}
	for _, r := range doc.Results {
		medians[r.Variant] = r.MedianRPS
	}
	return sideResult{label: "hmperf bench --method copy --commit (binary COPY, scratch copies)", ratio: iv, anchor: started,
		detail: fmt.Sprintf("median rows/s: original %s, optimized %s; improvement verdict: %s",
			benchout.Thousands(medians[bench.Original]), benchout.Thousands(medians[bench.Optimized]), c.Verdict)}
}

// copyTables are the two tables the independent side loads, in hmperf's
// run order.
var copyTables = []bench.Variant{bench.Original, bench.Optimized}

// liveTable is one table's live layout and the generated rows laid out for
// it (catalog.Map, as hmperf's writers do).
type liveTable struct {
	ident pgx.Identifier
	cols  []string
	rows  [][]any
	csv   string // the rows as CSV, for psql
}

func layOut(ctx context.Context, conn *pgx.Conn, ds bench.Dataset, table, csvPath string) (liveTable, error) {
	live, err := catalog.Read(ctx, conn, pgx.Identifier{table})
	if err != nil {
		return liveTable{}, err
	}
	m, err := catalog.Map(engine.TableOf(ds.Kind), live)
	if err != nil {
		return liveTable{}, err
	}
	lt := liveTable{ident: live.Ident(), cols: m.Columns, rows: make([][]any, len(ds.Rows)), csv: csvPath}
	for i, r := range ds.Rows {
		lt.rows[i] = m.Row(nil, r)
	}
	return lt, writeCSV(lt)
}

// columnList is the table's written columns, quoted, for SQL.
func (lt liveTable) columnList() string {
	cols := make([]string, len(lt.cols))
	for i, c := range lt.cols {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(cols, ", ")
}

// copyCommand is the psql \copy command that loads the CSV.
func (lt liveTable) copyCommand() string {
	return fmt.Sprintf(`\copy %s (%s) FROM '%s' WITH (FORMAT csv)`, lt.ident.Sanitize(), lt.columnList(),
		strings.ReplaceAll(lt.csv, `'`, `''`))
}

// runIndependent loads the rows reps times into each live table, truncated
// before every load, by psql's \copy of the CSV and by pgx's CopyFrom from
// this process (autocommitted), interleaved: psql original, psql optimized,
// CopyFrom original, CopyFrom optimized. CopyFrom encodes the rows inside
// its clock, as hmperf's COPY method once did: its ratio shows how much the
// client's encoder hides.
func runIndependent(ctx context.Context, b *testing.B, dsn, psql string, anchor time.Time, rows, reps int) (sideResult, sideResult) {
	pair, _ := bench.PairNamed("nutrition")
	ds, err := bench.Generate(pair.Name, rows, copyCheckSeed, anchor)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := createOwners(ctx, conn, ds); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	tables := make([]liveTable, len(copyTables))
	for i, v := range copyTables {
		if tables[i], err = layOut(ctx, conn, ds, pair.Tables[v], filepath.Join(dir, string(v)+".csv")); err != nil {
			b.Fatal(err)
		}
	}
	// One untimed load of each table by each path first.
	if _, err := psqlRound(psql, dsn, dir, tables, false); err != nil {
		b.Fatal(err)
	}
	if _, err := binaryRound(ctx, conn, tables); err != nil {
		b.Fatal(err)
	}
	var ps, bin [2][]float64
	for range reps {
		t, err := psqlRound(psql, dsn, dir, tables, true)
		if err != nil {
			b.Fatal(err)
		}
		ps[0], ps[1] = append(ps[0], t[0]), append(ps[1], t[1])
		if t, err = binaryRound(ctx, conn, tables); err != nil {
			b.Fatal(err)
		}
		bin[0], bin[1] = append(bin[0], t[0]), append(bin[1], t[1])
	}
	for _, lt := range tables {
		if err := sameRows(ctx, conn, psql, dsn, dir, lt); err != nil {
			b.Fatal(err)
		}
	}
	return side(`psql \copy (CSV, the live tables, committed)`, ps), side("pgx CopyFrom, encoding inside the clock (the live tables, committed)", bin)
}

// side summarises the seconds of the original (secs[0]) and optimized
// (secs[1]) loads, paired by repetition.
func side(label string, secs [2][]float64) sideResult {
	ratios := make([]float64, len(secs[0]))
	for i := range ratios {
		ratios[i] = secs[0][i] / secs[1][i] // rows/s optimized over original
	}
	return sideResult{label: label, ratio: bench.MedianInterval(ratios),
		detail: fmt.Sprintf("median seconds: original %.3f, optimized %.3f", bench.Median(secs[0]), bench.Median(secs[1]))}
}

// psqlRound runs one psql session that truncates and loads each table in
// turn and returns the seconds psql's \timing gave each \copy.
func psqlRound(psql, dsn, dir string, tables []liveTable, timed bool) ([]float64, error) {
	var s strings.Builder
	for _, lt := range tables {
		fmt.Fprintf(&s, "TRUNCATE %s;\n", lt.ident.Sanitize())
		if timed {
			s.WriteString("\\timing on\n")
		}
		s.WriteString(lt.copyCommand() + "\n")
		if timed {
			s.WriteString("\\timing off\n")
		}
	}
	path := filepath.Join(dir, "round.psql")
	if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
		return nil, err
	}
	out, err := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("psql: %v: %s", err, out)
	}
	times, err := psqlTimes(out)
	if err == nil && timed && len(times) != len(tables) {
		err = fmt.Errorf("psql printed %d \\copy timings, want %d:\n%s", len(times), len(tables), out)
	}
	return times, err
}

// binaryRound truncates and loads each table in turn by one binary COPY,
// its own committed transaction, and returns the seconds of each.
func binaryRound(ctx context.Context, conn *pgx.Conn, tables []liveTable) ([]float64, error) {
	var secs []float64
	for _, lt := range tables {
		if _, err := conn.Exec(ctx, "TRUNCATE "+lt.ident.Sanitize()); err != nil {
			return nil, err
		}
		start := time.Now()
		n, err := conn.CopyFrom(ctx, lt.ident, lt.cols, pgx.CopyFromRows(lt.rows))
		secs = append(secs, time.Since(start).Seconds())
		if err != nil || int(n) != len(lt.rows) {
			return nil, fmt.Errorf("binary COPY into %s: %d rows: %v", lt.ident.Sanitize(), n, err)
		}
	}
	return secs, nil
}

// createOwners commits the rows' owners into users once: both tables'
// user_id references it, and TRUNCATE of the metric tables leaves it.
func createOwners(ctx context.Context, conn *pgx.Conn, ds bench.Dataset) error {
	live, err := catalog.Read(ctx, conn, pgx.Identifier{"users"})
	if err != nil {
		return err
	}
	users, err := catalog.MapUsers(live)
	if err != nil {
		return err
	}
	owners := make([]engine.UUID, len(ds.Users))
	for i, u := range ds.Users {
		owners[i] = u
	}
	return users.Insert(ctx, conn, owners)
}

// writeCSV writes the table's rows to its CSV file.
func writeCSV(lt liveTable) error {
	f, err := os.Create(lt.csv)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, row := range lt.rows {
		for i, v := range row {
			if i > 0 {
				w.WriteByte(',')
			}
			field, err := csvField(v)
			if err != nil {
				f.Close()
				return fmt.Errorf("%s column %s: %w", lt.ident.Sanitize(), lt.cols[i], err)
			}
			w.WriteString(field)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sameRows checks that what psql's \copy of the CSV stores is exactly what
// a binary COPY (hmperf's write) stores for the same rows: the table's
// content (the binary side loaded it last) against psql's load of the CSV
// into a temporary table of the same columns, compared as multisets.
func sameRows(ctx context.Context, conn *pgx.Conn, psql, dsn, dir string, lt liveTable) error {
	list, ident := lt.columnList(), lt.ident.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE TABLE copycheck_csv AS SELECT "+list+" FROM "+ident+" WITH NO DATA"); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS copycheck_csv")
	csv := lt
	csv.ident = pgx.Identifier{"public", "copycheck_csv"}
	if _, err := psqlRound(psql, dsn, dir, []liveTable{csv}, false); err != nil {
		return err
	}
	var differ int64
	err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM (
		(SELECT %[1]s FROM %[2]s EXCEPT ALL SELECT %[1]s FROM copycheck_csv)
		UNION ALL
		(SELECT %[1]s FROM copycheck_csv EXCEPT ALL SELECT %[1]s FROM %[2]s)) d`, list, ident)).Scan(&differ)
	if err != nil {
		return err
	}
	if differ != 0 {
		return fmt.Errorf("%s: %d rows differ between the CSV and a binary COPY of the same rows", ident, differ)
	}
	return nil
}

// csvField renders one value as PostgreSQL's CSV reads it: NULL as an
// unquoted empty field, text always quoted (so an empty string stays one).
func csvField(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return `"` + strings.ReplaceAll(x, `"`, `""`) + `"`, nil
	case [16]byte:
		h := hex.EncodeToString(x[:])
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []string:
		j, err := json.Marshal(x)
		return `"` + strings.ReplaceAll(string(j), `"`, `""`) + `"`, err
	}
	return "", fmt.Errorf("no CSV form for %T", v)
}

var timingLine = regexp.MustCompile(`(?m)^Time: ([0-9.]+) ms`)

// psqlTimes reads the seconds of every timed command from psql's output.
func psqlTimes(out []byte) ([]float64, error) {
	var secs []float64
	for _, m := range timingLine.FindAllSubmatch(out, -1) {
		ms, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			return nil, err
		}
		secs = append(secs, ms/1000)
	}
	return secs, nil
}

// direction says which way an optimized/original ratio interval points.
func direction(iv bench.Interval) string {
	switch {
	case !iv.Bounded:
		return "no interval (too few repetitions)"
	case iv.Low > 1:
		return "optimized faster"
	case iv.High < 1:
		return "optimized slower"
	}
	return "inconclusive (interval contains 1)"
}

func printAgreement(w *strings.Builder, sides ...sideResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measured by\treps\toptimized/original (median)\t95% interval\tdirection")
	for _, s := range sides {
		ci := "none"
		if s.ratio.Bounded {
			ci = fmt.Sprintf("%.3f to %.3f", s.ratio.Low, s.ratio.High)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\t%s\n", s.label, s.ratio.Reps, s.ratio.Median, ci, direction(s.ratio))
	}
	tw.Flush()
	for _, s := range sides {
		fmt.Fprintf(w, "%s: %s\n", s.label, s.detail)
	}
}

// TestDisagree: only an interval wholly on the other side of 1 from the
// independent median is a disagreement; an interval containing 1, or an
// unbounded one, is not.
func TestDisagree(t *testing.T) {
	for _, tc := range []struct {
		iv     bench.Interval
		median float64
		want   bool
	}{
		{bench.Interval{Low: 0.3, High: 0.7, Bounded: true}, 0.73, false},
		{bench.Interval{Low: 0.3, High: 0.7, Bounded: true}, 1.2, true},
		{bench.Interval{Low: 1.1, High: 1.4, Bounded: true}, 0.9, true},
		{bench.Interval{Low: 1.1, High: 1.4, Bounded: true}, 1.05, false},
		{bench.Interval{Low: 0.8, High: 1.2, Bounded: true}, 0.5, false},
		{bench.Interval{Low: 0.3, High: 0.7}, 1.2, false},
	} {
		if got := disagree(tc.iv, tc.median); got != tc.want {
			t.Errorf("disagree(%+v, %g) = %v, want %v", tc.iv, tc.median, got, tc.want)
		}
	}
}

// TestCSVField: NULL stays an unquoted empty field, text is always quoted
// (so an empty string is not NULL), and a UUID prints in its usual form.
func TestCSVField(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"", `""`},
		{`say "hi"`, `"say ""hi"""`},
		{[16]byte{0: 0x12, 15: 0xab}, "12000000-0000-0000-0000-0000000000ab"},
		{0.1, "0.1"},
		{[]string{"a"}, `"[""a""]"`},
	} {
		if got, err := csvField(tc.v); err != nil || got != tc.want {
			t.Errorf("csvField(%#v) = %q, %v; want %q", tc.v, got, err, tc.want)
		}
	}
	if _, err := csvField(struct{}{}); err == nil {
		t.Error("csvField of an unknown type: no error")
	}
}
