package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/cmd/internal/dashsource"
	"hmperf/migrations"
	"hmperf/queries/monitor"
	"hmperf/queries/pglaunch"
	"hmperf/tui/source"
)

// TestFleetAlerts runs `hmperf alerts` over a primary and two streaming
// replicas (one replica set for the whole binary: it is the slow part)
// through a replica's outage, a lag alert and the primary's outage.
func TestFleetAlerts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	set, err := pglaunch.StartSet(ctx, pglaunch.Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Stop()
	primary, r1, r2 := set.Primary, set.Replicas[0], set.Replicas[1]
	m, err := migrations.New(primary.DSN("postgres"), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Up()
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := set.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	setArgs := []string{"alerts", "--json", "--connect-timeout", "5s",
		"--dsn", primary.DSN("postgres"), "--dsn", r1.DSN("postgres"), "--dsn", r2.DSN("postgres")}

	src := testFleetSource(t, ctx, primary, r1, r2)

	t.Run("all up", func(t *testing.T) {
		doc, code := fleetAlerts(t, ctx, setArgs...)
		wantServers(t, doc, code, 0, "primary OK", "replica OK", "replica OK")
	})

	t.Run("the Servers panel reads the set", func(t *testing.T) {
		first := pollServers(t, ctx, src, "primary", "replica", "replica")
		if first[0].Standbys != 2 || first[0].LagBytes == nil || first[0].LagSeconds == nil {
			t.Errorf("primary: %d standbys, lag %v bytes %v s; want 2 and both figures", first[0].Standbys, first[0].LagBytes, first[0].LagSeconds)
		}
		for i, s := range first {
			if s.TPS != nil || s.InsertsPerSec != nil {
				t.Errorf("server %d has rates on its first poll: %v, %v", i, s.TPS, s.InsertsPerSec)
			}
		}
		sql(t, primary, `CREATE TABLE fleet_rate (v int)`, `INSERT INTO fleet_rate SELECT generate_series(1, 3000)`)
		time.Sleep(1100 * time.Millisecond) // a backend publishes its counters at most once a second
		second := pollServers(t, ctx, src, "primary", "replica", "replica")
		if p := second[0]; p.TPS == nil || *p.TPS <= 0 || p.InsertsPerSec == nil || *p.InsertsPerSec <= 0 {
			t.Errorf("primary after 3000 inserts: TPS %v, inserts/s %v; want both above 0", p.TPS, p.InsertsPerSec)
		}
		for _, r := range second[1:] {
			if r.TPS == nil || r.InsertsPerSec != nil || r.LagBytes == nil || r.LagSeconds == nil {
				t.Errorf("replica %s: TPS %v, inserts/s %v, lag %v B %v s; want a TPS, no inserts, both lags", r.Name, r.TPS, r.InsertsPerSec, r.LagBytes, r.LagSeconds)
			}
		}
		if to, err := src.WritesTo(); err != nil || to != "primary" {
			t.Errorf("writes go to %q (%v), want the primary", to, err)
		}
	})

	t.Run("commands run on the primary and refuse a replica", func(t *testing.T) {
		r := runCmd(ctx, "", "migrate", "status", "--dsn", r2.DSN("postgres"), "--dsn", primary.DSN("postgres"))
		if r.code != 0 || !strings.Contains(r.stderr, "2 servers given; this command runs on the primary, --dsn number 2") {
			t.Errorf("migrate status over a replica and the primary: exit %d, stderr %q; want it run on --dsn number 2", r.code, r.stderr)
		}
		for _, args := range [][]string{
			{"migrate", "up", "--yes"},
			{"monitor", "--once"},
			{"ingest", "--sample", "10"},
			{"indexes", "process"},
		} {
			r := runCmd(ctx, "", append(args, "--dsn", r1.DSN("postgres"))...)
			if r.code == 0 || !strings.Contains(r.stderr, "is a replica (pg_is_in_recovery() is true)") {
				t.Errorf("%v on a replica: exit %d, stderr %q; want a refusal naming the replica", args, r.code, r.stderr)
			}
		}
	})

	t.Run("a replica is read, never written", func(t *testing.T) {
		replica := src.Member(1)
		if _, err := replica.Constraints(ctx); err != nil {
			t.Fatalf("the Constraints panel on a replica: %v", err)
		}
		if replica.SamplingOff() {
			t.Error("the sampler tried to write on the replica (and was refused)")
		}
		err := replica.StartIngest(ctx)
		if err == nil || !strings.Contains(err.Error(), "is a replica") {
			t.Errorf("StartIngest on a replica: %v, want a refusal naming it a replica", err)
		}
	})

	if err := r1.StopServer(); err != nil {
		t.Fatal(err)
	}
	t.Run("a replica down is UNKNOWN", func(t *testing.T) {
		doc, code := fleetAlerts(t, ctx, setArgs...)
		wantServers(t, doc, code, 3, "primary OK", " UNKNOWN", "replica OK")
		if doc.Servers[1].Error == "" || !strings.Contains(doc.Error, doc.Servers[1].Error) {
			t.Errorf("the down replica's error %q is not in the document's %q", doc.Servers[1].Error, doc.Error)
		}
		got := pollServers(t, ctx, src, "primary", "", "replica")
		if got[1].Err == "" || got[1].AlertsUnknown == "" {
			t.Errorf("the stopped replica reads %+v, want an error and its alerts unknown", got[1])
		}
		text := runCmd(ctx, "", "alerts", "--servers", writeServersFile(t, primary, r1, r2))
		first, _, _ := strings.Cut(text.stdout, "\n")
		if want := "UNKNOWN: 3 servers: primary OK, replica_1 UNKNOWN, replica_2 OK"; text.code != 3 || first != want {
			t.Errorf("--servers: exit %d, status line %q; want 3 and %q", text.code, first, want)
		}
	})

	t.Run("lag fires on the primary while a replica is stopped", func(t *testing.T) {
		sql(t, primary, `UPDATE constraint_alert_thresholds SET threshold = 100000 WHERE alert_name = 'replication_lag_bytes_warning'`,
			`CREATE TABLE lag_filler AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 5000) g`)
		doc, code := fleetAlerts(t, ctx, "alerts", "--json", "--dsn", primary.DSN("postgres"))
		lag := alertNamed(doc, "replication_lag_bytes_warning")
		if code != 1 || lag == nil || lag.Table != "standby replica_1" || lag.Observed <= 100000 {
			t.Fatalf("primary alone: exit %d, lag alert %+v; want exit 1 and a WARNING for standby replica_1 above 100000 bytes (%+v)", code, lag, doc)
		}
		// The fleet: a WARNING and an UNKNOWN make UNKNOWN.
		doc, code = fleetAlerts(t, ctx, setArgs...)
		wantServers(t, doc, code, 3, "primary WARNING", " UNKNOWN", "replica OK")
	})

	restartInSet(t, ctx, set, r1)
	t.Run("the replica back", func(t *testing.T) {
		doc, code := fleetAlerts(t, ctx, setArgs...)
		if code != 0 && code != 1 {
			t.Errorf("exit %d after the replica's restart, want 0 or 1: %+v", code, doc)
		}
		wantServers(t, doc, code, code, "primary ", "replica ", "replica ")
		if lag := alertNamed(doc, "replication_lag_bytes_warning"); lag != nil {
			t.Errorf("a caught-up replica still lags: %+v", lag)
		}
	})

	t.Run("the primary down: UNKNOWN, and the replicas' lag grows", func(t *testing.T) {
		sql(t, primary, `UPDATE constraint_alert_thresholds SET threshold = 1 WHERE alert_name = 'replication_lag_seconds_warning'`)
		if err := set.WaitCaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
		// Caught up and streaming: an idle primary is no lag.
		if doc, code := fleetAlerts(t, ctx, "alerts", "--json", "--dsn", r2.DSN("postgres")); code != 0 {
			t.Fatalf("a caught-up replica: exit %d, %+v; want 0", code, doc)
		}
		if err := primary.StopServer(); err != nil {
			t.Fatal(err)
		}
		var doc alertcheck.Doc
		var code int
		// Each replica notices the silence on its own clock: wait until
		// both say so (or the deadline passes and the check below fails).
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if doc, code = fleetAlerts(t, ctx, setArgs...); lagging(doc) == 2 {
				break
			}
		}
		wantServers(t, doc, code, 3, " UNKNOWN", "replica WARNING", "replica WARNING")
		got := pollServers(t, ctx, src, "", "replica", "replica")
		if l := got[2].LagSeconds; l == nil || *l <= 1 {
			t.Errorf("a replica without its primary lags %v s, want more than 1", l)
		}
		if _, err := src.WritesTo(); err == nil {
			t.Error("writes have somewhere to go with the primary down")
		}
		if lag := alertNamed(doc, "replication_lag_seconds_warning"); lag == nil || lag.Table != "standby replica_1" || lag.Observed <= 1 {
			t.Errorf("replica_1's lag alert: %+v", lag)
		}
	})

	restartInSet(t, ctx, set, primary)
	t.Run("the primary back: recovered", func(t *testing.T) {
		sql(t, primary, `UPDATE constraint_alert_thresholds SET threshold = 30 WHERE alert_name = 'replication_lag_seconds_warning'`)
		if err := set.WaitCaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
		doc, code := fleetAlerts(t, ctx, setArgs...)
		if code != 0 && code != 1 {
			t.Errorf("exit %d after the primary's restart, want 0 or 1: %+v", code, doc)
		}
		wantServers(t, doc, code, code, "primary ", "replica ", "replica ")
		got := pollServers(t, ctx, src, "primary", "replica", "replica")
		for _, r := range got[1:] {
			if r.LagSeconds == nil || *r.LagSeconds != 0 {
				t.Errorf("replica %s lags %v s once streaming and caught up again, want 0", r.Name, r.LagSeconds)
			}
		}
		if to, err := src.WritesTo(); err != nil || to != "primary" {
			t.Errorf("writes go to %q (%v) after the primary's return, want the primary", to, err)
		}
	})
}

// TestLocalReplicas runs `hmperf local --replicas 1`: two connection
// strings, primary first, each reaching a server of that role; SIGTERM
// stops both and removes their files.
func TestLocalReplicas(t *testing.T) {
	tmp := privateTempDir(t)
	cmd := exec.Command(binPath, "local", "--replicas", "1")
	cmd.Env = cleanEnv("TMPDIR=" + tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		out := bufio.NewReader(stdout)
		for i, want := range []bool{false, true} {
			line, err := out.ReadString('\n')
			if err != nil {
				t.Errorf("connection string %d: %q, %v", i+1, line, err)
				break
			}
			if got, err := inRecovery(strings.TrimSpace(line)); err != nil || got != want {
				t.Errorf("server %d (%s): pg_is_in_recovery() = %v, %v; want %v", i+1, line, got, err, want)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("hmperf local --replicas 1 after SIGTERM: %v", err)
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("hmperf local --replicas 1 did not print and exit in time")
	}
	assertNothingLeft(t, tmp)
}

// TestServersFlags: --dsn appends, --servers reads names and DSNs, and the
// mistakes are named.
func TestServersFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", "[[server]]\nname = \"p\"\ndsn = \"host=a\"\n\n[[server]]\nname = \"r\"\ndsn = \"\"\n")
	tests := []struct {
		name    string
		args    []string
		want    []server
		wantErr string
	}{
		{"one --dsn", []string{"--dsn", "host=a"}, []server{{DSN: "host=a"}}, ""},
		{"--dsn repeated, in order", []string{"--dsn", "host=a", "--dsn", "host=b", "--dsn", "host=c"},
			[]server{{DSN: "host=a"}, {DSN: "host=b"}, {DSN: "host=c"}}, ""},
		{"none", nil, []server{}, ""},
		{"a servers file", []string{"--servers", good}, []server{{Name: "p", DSN: "host=a"}, {Name: "r", DSN: ""}}, ""},
		{"not both", []string{"--servers", good, "--dsn", "host=a"}, nil, "not both"},
		{"missing file", []string{"--servers", filepath.Join(dir, "none.toml")}, nil, "read --servers file"},
		{"no name", []string{"--servers", write("noname.toml", "[[server]]\ndsn = \"host=a\"\n")}, nil, "server 1 has no name"},
		{"a name twice", []string{"--servers", write("twice.toml", "[[server]]\nname = \"a\"\n[[server]]\nname = \"a\"\n")}, nil, `"a" used twice`},
		{"an unknown key", []string{"--servers", write("typo.toml", "[[server]]\nname = \"a\"\ndns = \"host=a\"\n")}, nil, "unknown key server.dns"},
		{"no servers", []string{"--servers", write("empty.toml", "")}, nil, "lists no [[server]]"},
		{"not TOML", []string{"--servers", write("bad.toml", "[[server]\n")}, nil, "bad.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cf connFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			cf.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := cf.servers()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("servers() = %+v, %v; want %+v", got, err, tc.want)
			}
			if len(tc.want) > 0 && tc.want[0].Name == "" && cf.dsn != tc.want[0].DSN {
				t.Errorf("the first --dsn is %q, want %q", cf.dsn, tc.want[0].DSN)
			}
		})
	}
}

// restartInSet starts a stopped server of set again and waits until every
// replica streams and has replayed the primary's position.
func restartInSet(t *testing.T, ctx context.Context, set *pglaunch.Set, c *pglaunch.Cluster) {
	t.Helper()
	if err := c.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := set.WaitStreaming(ctx); err != nil {
		t.Fatal(err)
	}
	if err := set.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
}

// testFleetSource is the dashboard's source over the three servers, named
// by role as a --servers file would.
func testFleetSource(t *testing.T, ctx context.Context, primary *pglaunch.Cluster, replicas ...*pglaunch.Cluster) *dashsource.Fleet {
	t.Helper()
	names := []string{"primary"}
	clusters := append([]*pglaunch.Cluster{primary}, replicas...)
	srcs := make([]*dashsource.DB, len(clusters))
	for i, c := range clusters {
		if i > 0 {
			names = append(names, c.Name())
		}
		tg, err := configuredTarget(c.DSN("postgres"), connFlags{connectTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		pool, err := tg.LazyPool(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		srcs[i] = newDBSource(tg, pool, dashboardOpts{})
	}
	return dashsource.NewFleet(names, srcs)
}

// pollServers runs one Servers poll and checks each server's role ("" for
// one that cannot be read, which must say why).
func pollServers(t *testing.T, ctx context.Context, src *dashsource.Fleet, roles ...string) []source.Server {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := src.Servers(pctx)
	if err != nil || len(got) != len(roles) {
		t.Fatalf("Servers: %d servers, %v; want %d", len(got), err, len(roles))
	}
	for i, want := range roles {
		if got[i].Role != want || (want == "") != (got[i].Err != "") {
			t.Errorf("server %d (%s): role %q, error %q; want role %q", i, got[i].Name, got[i].Role, got[i].Err, want)
		}
	}
	return got
}

func fleetAlerts(t *testing.T, ctx context.Context, args ...string) (alertcheck.Doc, int) {
	t.Helper()
	r := runCmd(ctx, "", args...)
	var doc alertcheck.Doc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("alerts %v: %v: stdout %q, stderr %q", args, err, r.stdout, r.stderr)
	}
	if doc.ExitCode != r.code {
		t.Errorf("document's exit code %d, process's %d", doc.ExitCode, r.code)
	}
	return doc, r.code
}

// wantServers checks the exit code and each server's "role status", as
// prefixes and suffixes: "primary OK", " UNKNOWN" (no role), "replica ".
func wantServers(t *testing.T, doc alertcheck.Doc, code, wantCode int, want ...string) {
	t.Helper()
	if code != wantCode || len(doc.Servers) != len(want) {
		t.Fatalf("exit %d with %d servers, want %d with %d: %+v", code, len(doc.Servers), wantCode, len(want), doc)
	}
	for i, w := range want {
		s := doc.Servers[i]
		role, status, _ := strings.Cut(w, " ")
		if s.Role != role || (status != "" && s.Status != status) {
			t.Errorf("server %d (%s): %q %q, want %q", i, s.Name, s.Role, s.Status, w)
		}
	}
}

// lagging counts the servers whose own result has the seconds-lag alert.
func lagging(doc alertcheck.Doc) int {
	n := 0
	for _, srv := range doc.Servers {
		for _, a := range srv.Alerts {
			if a.Name == "replication_lag_seconds_warning" {
				n++
				break
			}
		}
	}
	return n
}

func alertNamed(doc alertcheck.Doc, name string) *monitor.Alert {
	for i := range doc.Alerts {
		if doc.Alerts[i].Name == name {
			return &doc.Alerts[i]
		}
	}
	return nil
}

func writeServersFile(t *testing.T, primary *pglaunch.Cluster, replicas ...*pglaunch.Cluster) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("[[server]]\nname = \"primary\"\ndsn = " + strconv.Quote(primary.DSN("postgres")) + "\n")
	for _, r := range replicas {
		b.WriteString("\n[[server]]\nname = " + strconv.Quote(r.Name()) + "\ndsn = " + strconv.Quote(r.DSN("postgres")) + "\n")
	}
	p := filepath.Join(t.TempDir(), "servers.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func inRecovery(dsn string) (bool, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var b bool
	err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&b)
	return b, err
}

func sql(t *testing.T, c *pglaunch.Cluster, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestFleetBadDSN: a connection string that does not parse is UNKNOWN, says
// which --dsn it was, and keeps its password to itself.
func TestFleetBadDSN(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	r := runCmd(context.Background(), "", "alerts", "--dsn", "host=127.0.0.1 port=1 dbname=x",
		"--dsn", "host=127.0.0.1 port=notanumber password="+secret)
	if r.code != 3 || !strings.Contains(r.stdout, "--dsn number 2") || strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3 naming --dsn number 2 without the password", r.code, r.stdout, r.stderr)
	}
}
