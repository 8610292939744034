package pglaunch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/ulikunitz/xz"
	xi2xz "github.com/xi2/xz"
)

// entry is one file of a test archive: a regular file, or a symlink when
// link is set.
type entry struct {
	name, link string
	mode       int64
	body       []byte
}

// txz packs entries as zonky does: a tar compressed with xz.
func txz(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	x, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(x)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.link != "" {
			h = &tar.Header{Name: e.name, Mode: 0o777, Linkname: e.link, Typeflag: tar.TypeSymlink}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jar wraps a .txz in a zip, as zonky's jars do (beside a manifest).
func jar(t *testing.T, archive []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, body := range map[string][]byte{"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\n"), "postgres-test.txz": archive} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// repository serves files (path → body) as a Maven repository does and
// counts the requests for the jar itself.
func repository(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var jars atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(r.URL.Path, ".jar") {
			jars.Add(1)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &jars
}

// published lays out a release's jar with its checksum files, which sums
// selects ("sha256", "sha1"; a bad one when prefixed by "bad-").
func published(t *testing.T, version string, jarBody []byte, sums ...string) map[string][]byte {
	t.Helper()
	plat, err := zonkyPlatform(runtime.GOOS, runtime.GOARCH, fileExists("/etc/alpine-release"))
	if err != nil {
		t.Skip(err)
	}
	path := JarURL("", plat, version)
	files := map[string][]byte{path: jarBody}
	s256, s1 := sha256.Sum256(jarBody), sha1.Sum(jarBody)
	for _, s := range sums {
		bad := strings.HasPrefix(s, "bad-")
		kind := strings.TrimPrefix(s, "bad-")
		sum := map[string]string{"sha256": hex.EncodeToString(s256[:]), "sha1": hex.EncodeToString(s1[:])}[kind]
		if bad {
			sum = strings.Repeat("0", len(sum))
		}
		files[path+"."+kind] = []byte(sum)
	}
	return files
}

// sharedCache makes a cache directory the server's user can enter when the
// test runs as root (t.TempDir() is private to root).
func sharedCache(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hmperf-fetch-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// machineRelease packs this machine's own initdb and postgres as a zonky
// release, named for the version they report.
func machineRelease(t *testing.T) (version string, jarBody []byte) {
	t.Helper()
	bin, err := FindBinDir()
	if err != nil {
		t.Fatalf("the test builds its repository from the machine's binaries: %v", err)
	}
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(out)) // postgres (PostgreSQL) 15.18 (Debian ...)
	version = fields[2] + ".0"
	var entries []entry
	for _, name := range []string{"initdb", "postgres"} {
		body, err := os.ReadFile(filepath.Join(bin, name))
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{name: "bin/" + name, mode: 0o755, body: body})
	}
	// The server finds its modules relative to its own directory, as
	// zonky's do: initdb loads these two.
	lib := pkgLibDir(bin)
	if lib == "" {
		lib = filepath.Join(bin, "..", "lib")
	}
	for _, name := range []string{"plpgsql.so", "dict_snowball.so"} {
		body, err := os.ReadFile(filepath.Join(lib, name))
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{name: "lib/" + name, mode: 0o644, body: body})
	}
	// A link inside the archive, as zonky's lib/ has for its libraries.
	entries = append(entries, entry{name: "bin/postmaster", link: "postgres"})
	return version, jar(t, txz(t, entries))
}

// TestStartFetches hides the machine's binaries, serves a repository built
// from them, and starts the embedded server from what Start fetched; a
// second start finds them in the cache and downloads nothing.
func TestStartFetches(t *testing.T) {
	t.Setenv(EnvBinDir, "")
	t.Setenv(EnvRepository, "")
	t.Setenv(EnvVersion, "")
	version, jarBody := machineRelease(t)
	srv, jars := repository(t, published(t, version, jarBody, "sha256"))
	cache := sharedCache(t)
	hidden := func() (string, error) { return "", ErrNoBinaries }
	var progress bytes.Buffer
	opts := Options{Find: hidden, Fetch: FetchOptions{Repository: srv.URL, Version: version, CacheDir: cache, Progress: &progress}}
	ctx := context.Background()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if !strings.HasPrefix(c.binDir, cache+string(filepath.Separator)) {
		t.Errorf("the server runs from %s, not from the cache %s", c.binDir, cache)
	}
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var v string
	err = conn.QueryRow(ctx, "SHOW server_version").Scan(&v)
	conn.Close(ctx)
	if err != nil || strings.Fields(v)[0]+".0" != version {
		t.Errorf("server_version %q (%v), want %s", v, err, version)
	}
	for _, want := range []string{"fetching", "100%"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress %q does not say %q", progress.String(), want)
		}
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	again, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	if n := jars.Load(); n != 1 {
		t.Errorf("the jar was downloaded %d times for two starts, want 1 (the second from the cache)", n)
	}
	if again.binDir != c.binDir {
		t.Errorf("second start ran %s, first %s", again.binDir, c.binDir)
	}
}

// TestFetchRefuses: a download that fails a check leaves nothing in the
// cache and says what failed.
func TestFetchRefuses(t *testing.T) {
	t.Setenv(EnvRepository, "")
	t.Setenv(EnvVersion, "")
	script := func(v string) []byte { return []byte("#!/bin/sh\necho 'postgres (PostgreSQL) " + v + "'\n") }
	fake := func(v string) []entry {
		return []entry{{name: "bin/initdb", mode: 0o755, body: script(v)}, {name: "bin/postgres", mode: 0o755, body: script(v)}}
	}
	good := jar(t, txz(t, fake("15.13")))
	for _, c := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"checksum mismatch", published(t, "15.13.0", good, "bad-sha256", "sha1"), "checksum"},
		{"sha1 mismatch where no sha256", published(t, "15.13.0", good, "bad-sha1"), "checksum"},
		{"no checksum published", published(t, "15.13.0", good), "no .sha256 or .sha1"},
		{"no release", map[string][]byte{}, "404"},
		{"not a jar", published(t, "15.13.0", []byte("<html>"), "sha256"), "not a jar"},
		{"jar without txz", published(t, "15.13.0", zipOf(t, "readme.txt"), "sha256"), "no .txz"},
		{"entry outside", published(t, "15.13.0", jar(t, txz(t, append(fake("15.13"), entry{name: "../../escaped", mode: 0o644}))), "sha256"), "outside the archive"},
		{"link outside", published(t, "15.13.0", jar(t, txz(t, append(fake("15.13"), entry{name: "lib/x", link: "../../../etc/passwd"}))), "sha256"), "links outside"},
		{"no server inside", published(t, "15.13.0", jar(t, txz(t, fake("15.13")[:1])), "sha256"), "no bin/initdb and bin/postgres"},
		{"wrong version inside", published(t, "15.13.0", jar(t, txz(t, fake("9.6"))), "sha256"), "not PostgreSQL 15.13"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := repository(t, c.files)
			cache := t.TempDir()
			_, err := Fetch(context.Background(), FetchOptions{Repository: srv.URL, Version: "15.13.0", CacheDir: cache})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Fetch: %v, want an error saying %q", err, c.want)
			}
			left, _ := filepath.Glob(filepath.Join(cache, "*"))
			for _, p := range left {
				if !strings.HasSuffix(p, ".lock") {
					t.Errorf("a refused fetch left %s", p)
				}
			}
		})
	}
	// A version becomes part of a path and a URL: only a release's form.
	t.Setenv(EnvVersion, "15.13/../../x")
	if _, err := Fetch(context.Background(), FetchOptions{CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "want a zonky release") {
		t.Errorf("Fetch with %s=15.13/../../x: %v, want a refusal", EnvVersion, err)
	}
	// What a killed fetch left is swept by the next one.
	cache := t.TempDir()
	plat, _ := zonkyPlatform(runtime.GOOS, runtime.GOARCH, fileExists("/etc/alpine-release"))
	left := filepath.Join(cache, "postgres-"+plat+"-15.13.0.extract-123")
	if err := os.MkdirAll(filepath.Join(left, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv, _ := repository(t, published(t, "15.13.0", good, "sha256"))
	if _, err := Fetch(context.Background(), FetchOptions{Repository: srv.URL, Version: "15.13.0", CacheDir: cache}); err != nil {
		t.Fatalf("a correct release: %v", err)
	}
	if fileExists(left) {
		t.Errorf("a killed fetch's %s is still there", left)
	}
	// The same release, correctly published, is accepted: the refusals
	// above are the checks', not a broken fixture's.
	if _, err := Fetch(context.Background(), FetchOptions{Repository: srv.URL, Version: "15.13.0", CacheDir: t.TempDir()}); err != nil {
		t.Fatalf("a correct release: %v", err)
	}
}

func zipOf(t *testing.T, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	if _, err := z.Create(name); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBinDirNeverFetchesWhenPinned: HMPERF_PG_BINDIR names the binaries
// and nothing else, and "off" turns the fetch off.
func TestBinDirNeverFetchesWhenPinned(t *testing.T) {
	srv, jars := repository(t, map[string][]byte{})
	hidden := func() (string, error) { return "", ErrNoBinaries }
	for _, c := range []struct {
		name, bindir, repo string
	}{
		{"pinned", t.TempDir(), srv.URL},
		{"off", "", "off"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(EnvBinDir, c.bindir)
			t.Setenv(EnvRepository, c.repo)
			find := hidden
			if c.bindir != "" {
				find = FindBinDir
			}
			_, err := BinDir(context.Background(), Options{Find: find, Fetch: FetchOptions{CacheDir: t.TempDir()}})
			if err == nil || strings.Contains(err.Error(), "fetch") {
				t.Errorf("BinDir: %v, want ErrNoBinaries without a fetch", err)
			}
		})
	}
	if n := jars.Load(); n != 0 {
		t.Errorf("%d downloads, want none", n)
	}
}

func TestZonkyPlatform(t *testing.T) {
	for _, c := range []struct {
		goos, goarch string
		alpine       bool
		want         string
	}{
		{"linux", "amd64", false, "linux-amd64"},
		{"linux", "arm64", false, "linux-arm64v8"},
		{"linux", "amd64", true, "linux-amd64-alpine"},
		{"darwin", "arm64", false, "darwin-arm64v8"},
		{"darwin", "amd64", false, "darwin-amd64"},
		{"windows", "amd64", false, ""},
		{"linux", "riscv64", false, ""},
	} {
		got, err := zonkyPlatform(c.goos, c.goarch, c.alpine)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("zonkyPlatform(%s, %s, %v) = %q, %v; want %q", c.goos, c.goarch, c.alpine, got, err, c.want)
		}
	}
}

// BenchmarkUnpack decompresses a .txz with the xz reader the fetch uses and
// with the one the tests write with: why the fetch reads with xi2/xz. The
// archive is HMPERF_BENCH_TXZ (a zonky release's, or one made by the xz
// tool) when set, else the machine's initdb and postgres packed by the
// tests' writer.
func BenchmarkUnpack(b *testing.B) {
	packed, size := benchArchive(b)
	readers := []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"xi2", func(r io.Reader) (io.Reader, error) { return xi2xz.NewReader(r, 0) }},
		{"ulikunitz", func(r io.Reader) (io.Reader, error) { return xz.NewReader(r) }},
	}
	for _, rd := range readers {
		b.Run(rd.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				r, err := rd.open(bytes.NewReader(packed))
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != size {
					b.Fatalf("unpacked %d of %d bytes: %v", n, size, err)
				}
			}
		})
	}
}

// benchArchive returns the archive BenchmarkUnpack reads and its unpacked
// size.
func benchArchive(b *testing.B) ([]byte, int64) {
	if p := os.Getenv("HMPERF_BENCH_TXZ"); p != "" {
		packed, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		r, err := xi2xz.NewReader(bytes.NewReader(packed), 0)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			b.Fatal(err)
		}
		return packed, n
	}
	bin, err := FindBinDir()
	if err != nil {
		b.Fatal(err)
	}
	var raw []byte
	for _, name := range []string{"postgres", "initdb"} {
		body, err := os.ReadFile(filepath.Join(bin, name))
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, body...)
	}
	var packed bytes.Buffer
	w, err := xz.NewWriter(&packed)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return packed.Bytes(), int64(len(raw))
}
