package pglaunch

import (
	"archive/tar"
	"archive/zip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/xi2/xz"
)

// DefaultRepository is the Maven repository the zonky PostgreSQL binaries
// are published in; fergusstrange/embedded-postgres fetches from it too.
const DefaultRepository = "https://repo1.maven.org/maven2"

// DefaultVersion is the zonky release fetched when no server binaries are
// installed. Its major version, 15, is the one hmperf's CI runs on, so a
// fetch brings no major version the tests have not seen.
const DefaultVersion = "15.13.0"

// EnvRepository names the variable that points the fetch at another Maven
// repository (a mirror), or turns it off with the value "off".
const EnvRepository = "HMPERF_PG_REPOSITORY"

// EnvVersion names the variable that chooses another zonky release to fetch
// (major.minor.patch, e.g. 17.5.0).
const EnvVersion = "HMPERF_PG_VERSION"

// EnvBinDir names the variable that pins the server binaries' directory.
// When it is set, nothing else is searched and nothing is fetched.
const EnvBinDir = "HMPERF_PG_BINDIR"

// FetchOptions configures the download of server binaries.
type FetchOptions struct {
	// Repository is the Maven repository's base URL: $HMPERF_PG_REPOSITORY,
	// else DefaultRepository, when empty.
	Repository string
	// Version is the zonky release (major.minor.patch): $HMPERF_PG_VERSION,
	// else DefaultVersion, when empty.
	Version string
	// CacheDir holds the extracted binaries; see CacheDir when empty.
	CacheDir string
	// Progress receives one line per tenth of the download; nil says nothing.
	Progress io.Writer
	// Client makes the requests; http.DefaultClient when nil.
	Client *http.Client
}

// CacheDir is where fetched binaries are kept: the user's cache directory,
// or /var/cache/hmperf for root, because under root the server runs as
// another user, who cannot enter root's home.
func CacheDir() (string, error) {
	if os.Geteuid() == 0 && runtime.GOOS != "windows" {
		return filepath.Join("/var/cache", "hmperf"), nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for PostgreSQL's binaries: %w", err)
	}
	return filepath.Join(dir, "hmperf"), nil
}

// Fetch returns the directory of initdb and postgres from a zonky release,
// downloading and extracting it into the cache the first time. The jar is
// checked against the SHA-256 the repository publishes beside it (or its
// SHA-1 where there is none: Maven Central publishes one for every file),
// every archive entry must stay inside the target directory, and the
// extracted postgres must report the version asked for. An interrupted or
// refused fetch leaves nothing in the cache.
func Fetch(ctx context.Context, o FetchOptions) (string, error) {
	o, err := o.withDefaults()
	if err != nil {
		return "", err
	}
	plat, err := zonkyPlatform(runtime.GOOS, runtime.GOARCH, fileExists("/etc/alpine-release"))
	if err != nil {
		return "", err
	}
	dest := filepath.Join(o.CacheDir, "postgres-"+plat+"-"+o.Version)
	if hasServer(filepath.Join(dest, "bin")) {
		return filepath.Join(dest, "bin"), nil
	}
	if err := mkdirShared(o.CacheDir); err != nil {
		return "", err
	}
	unlock, err := lockFile(dest + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have fetched it while this one waited.
	if hasServer(filepath.Join(dest, "bin")) {
		return filepath.Join(dest, "bin"), nil
	}
	if err := fetchInto(ctx, o, plat, dest); err != nil {
		return "", fmt.Errorf("fetch PostgreSQL %s binaries from %s: %w", o.Version, o.Repository, err)
	}
	return filepath.Join(dest, "bin"), nil
}

func (o FetchOptions) withDefaults() (FetchOptions, error) {
	if o.Repository == "" {
		o.Repository = os.Getenv(EnvRepository)
	}
	if o.Repository == "" {
		o.Repository = DefaultRepository
	}
	o.Repository = strings.TrimRight(o.Repository, "/")
	if o.Version == "" {
		o.Version = os.Getenv(EnvVersion)
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if !releaseName.MatchString(o.Version) {
		return o, fmt.Errorf("%s=%q: want a zonky release such as %s", EnvVersion, o.Version, DefaultVersion)
	}
	if o.CacheDir == "" {
		dir, err := CacheDir()
		if err != nil {
			return o, err
		}
		o.CacheDir = dir
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	return o, nil
}

// releaseName is the form of a zonky release: it becomes part of a URL and
// of a directory name, so nothing else is accepted.
var releaseName = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// zonkyPlatform names the platform as zonky's artifacts do.
func zonkyPlatform(goos, goarch string, alpine bool) (string, error) {
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64v8"}[goarch]
	if arch == "" || (goos != "linux" && goos != "darwin") {
		return "", fmt.Errorf("no PostgreSQL binaries are published for %s/%s: install PostgreSQL or connect with --dsn", goos, goarch)
	}
	if goos == "linux" && alpine {
		arch += "-alpine"
	}
	return goos + "-" + arch, nil
}

// JarURL is the address of a zonky release's jar in a Maven repository.
func JarURL(repository, platform, version string) string {
	artifact := "embedded-postgres-binaries-" + platform
	return fmt.Sprintf("%s/io/zonky/test/postgres/%s/%s/%s-%s.jar", repository, artifact, version, artifact, version)
}

// fetchInto downloads the jar beside dest, checks it, extracts it into a
// temporary directory and renames that to dest.
func fetchInto(ctx context.Context, o FetchOptions, plat, dest string) error {
	url := JarURL(o.Repository, plat, o.Version)
	// A fetch killed before its deferred removals left its temporaries;
	// they are this release's alone, and its lock is held.
	sweepTemporaries(dest)
	jar, err := os.CreateTemp(o.CacheDir, filepath.Base(dest)+".download-*.jar")
	if err != nil {
		return err
	}
	defer os.Remove(jar.Name())
	defer jar.Close()
	sums, err := download(ctx, o, url, jar)
	if err != nil {
		return err
	}
	if err := verify(ctx, o, url, sums); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(o.CacheDir, filepath.Base(dest)+".extract-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := extractJar(jar, tmp); err != nil {
		return err
	}
	if err := checkVersion(ctx, filepath.Join(tmp, "bin"), o.Version); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

// sweepTemporaries removes what an earlier, killed fetch of dest left.
func sweepTemporaries(dest string) {
	for _, pattern := range []string{".download-*.jar", ".extract-*"} {
		left, _ := filepath.Glob(dest + pattern)
		for _, p := range left {
			_ = os.RemoveAll(p)
		}
	}
}

// digests are the checksums of a download, computed while it is written.
type digests struct{ sha256, sha1 hash.Hash }

func download(ctx context.Context, o FetchOptions, url string, to io.Writer) (digests, error) {
	d := digests{sha256.New(), sha1.New()}
	resp, err := get(ctx, o.Client, url)
	if err != nil {
		return d, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := &progress{w: o.Progress, url: url, total: resp.ContentLength}
	p.start()
	if _, err := io.Copy(io.MultiWriter(to, d.sha256, d.sha1, p), resp.Body); err != nil {
		return d, fmt.Errorf("GET %s: %w", url, err)
	}
	p.finish()
	return d, nil
}

func get(ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// verify compares the download with the checksum file published beside it:
// .sha256 when there is one, else .sha1. Neither is refused.
func verify(ctx context.Context, o FetchOptions, url string, d digests) error {
	for _, c := range []struct {
		ext string
		sum hash.Hash
	}{{".sha256", d.sha256}, {".sha1", d.sha1}} {
		want, found, err := checksumFile(ctx, o.Client, url+c.ext)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if got := hex.EncodeToString(c.sum.Sum(nil)); got != want {
			return fmt.Errorf("%s: checksum %s, the repository publishes %s", url, got, want)
		}
		return nil
	}
	return fmt.Errorf("%s: the repository publishes no .sha256 or .sha1 to check it against", url)
}

// checksumFile reads a published checksum: its first word, lower case.
func checksumFile(ctx context.Context, c *http.Client, url string) (string, bool, error) {
	resp, err := get(ctx, c, url)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return "", false, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return "", false, fmt.Errorf("GET %s: %w", url, err)
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "", false, fmt.Errorf("GET %s: empty checksum file", url)
	}
	return strings.ToLower(f[0]), true, nil
}

// extractJar unpacks the one .txz inside the jar into dir.
func extractJar(jar *os.File, dir string) error {
	st, err := jar.Stat()
	if err != nil {
		return err
	}
	z, err := zip.NewReader(jar, st.Size())
	if err != nil {
		return fmt.Errorf("the download is not a jar: %w", err)
	}
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, ".txz") {
			r, err := f.Open()
			if err != nil {
				return err
			}
			defer r.Close()
			return extractTxz(r, dir)
		}
	}
	return errors.New("the jar holds no .txz archive")
}

func extractTxz(r io.Reader, dir string) error {
	x, err := xz.NewReader(r, 0)
	if err != nil {
		return fmt.Errorf("the archive is not xz: %w", err)
	}
	t := tar.NewReader(x)
	for {
		h, err := t.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the archive: %w", err)
		}
		if err := extractEntry(t, h, dir); err != nil {
			return err
		}
	}
}

// extractEntry writes one tar entry under dir. Names and link targets that
// would leave dir are refused; modes keep at most rwxr-xr-x, so nothing in
// the cache is writable by others or setuid.
func extractEntry(r io.Reader, h *tar.Header, dir string) error {
	name, err := insideName(h.Name)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	mode := os.FileMode(h.Mode).Perm() & 0o755
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(path, mode|0o700)
	case tar.TypeReg:
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode|0o400)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case tar.TypeSymlink:
		if filepath.IsAbs(h.Linkname) {
			return fmt.Errorf("archive entry %s links outside the archive (%s)", h.Name, h.Linkname)
		}
		if _, err := insideName(filepath.Join(filepath.Dir(name), h.Linkname)); err != nil {
			return fmt.Errorf("archive entry %s links outside the archive (%s)", h.Name, h.Linkname)
		}
		return os.Symlink(h.Linkname, path)
	default:
		return fmt.Errorf("archive entry %s is of a type hmperf does not extract (%c)", h.Name, h.Typeflag)
	}
}

// insideName cleans an archive path and refuses one that is absolute or
// climbs out of the archive's root.
func insideName(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("archive entry %s lies outside the archive", name)
	}
	return clean, nil
}

// checkVersion runs the extracted postgres and requires the version the
// release is named for (15.13.0 is PostgreSQL 15.13).
func checkVersion(ctx context.Context, binDir, version string) error {
	if !hasServer(binDir) {
		return errors.New("the archive holds no bin/initdb and bin/postgres")
	}
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "postgres"), "--version").Output()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("the fetched postgres does not run here: %w", err)
	}
	want := strings.TrimSuffix(version, ".0")
	fields := strings.Fields(string(out))
	for i, f := range fields {
		if f == "(PostgreSQL)" && i+1 < len(fields) && (fields[i+1] == want || fields[i+1] == version) {
			return nil
		}
	}
	return fmt.Errorf("the fetched postgres reports %q, not PostgreSQL %s", strings.TrimSpace(string(out)), want)
}

// mkdirShared creates dir readable by everyone: under root the server runs
// as another user, who must be able to run the binaries inside.
func mkdirShared(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the binaries' cache %s: %w", dir, err)
	}
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// progress prints a line for every tenth of a download of known size, or
// every 10 MB of one of unknown size: lines, not a redrawn bar, so that a
// log shows them as well as a terminal.
type progress struct {
	w     io.Writer
	url   string
	total int64
	done  int64
	shown int64
}

func (p *progress) start() {
	if p.w == nil {
		return
	}
	size := "unknown size"
	if p.total > 0 {
		size = mb(p.total)
	}
	fmt.Fprintf(p.w, "hmperf: no PostgreSQL server installed; fetching one (%s) from %s\n", size, p.url)
}

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.w == nil {
		return len(b), nil
	}
	step := int64(10 << 20)
	if p.total > 0 {
		step = max(p.total/10, 1)
	}
	if p.done/step > p.shown/step && p.done != p.total {
		p.shown = p.done
		p.line()
	}
	return len(b), nil
}

// finish says the download is complete, whatever the steps showed.
func (p *progress) finish() {
	if p.w != nil {
		p.line()
		fmt.Fprintln(p.w, "hmperf: checking and unpacking it")
	}
}

func (p *progress) line() {
	if p.total > 0 {
		fmt.Fprintf(p.w, "hmperf: fetched %s of %s (%d%%)\n", mb(p.done), mb(p.total), p.done*100/p.total)
	} else {
		fmt.Fprintf(p.w, "hmperf: fetched %s\n", mb(p.done))
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
