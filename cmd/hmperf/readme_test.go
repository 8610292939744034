package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// parseOnly parses and checks one command line as hmperf would, without
// running the command.
func parseOnly(args []string) result {
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		isTerminal: func() bool { return false }, parseOnly: true}
	code := run(context.Background(), e, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// notCommands are inline mentions of "hmperf ..." in the docs that name
// something other than a command line: the Throughput panel's column
// labels and an application_name.
var notCommands = map[string]bool{"hmperf rows": true, "hmperf r/s": true, "hmperf launcher": true}

// TestDocumentedCommandLinesParse: every hmperf command line in README.md
// and docs/ (code blocks and inline code) parses and passes the flag
// checks. Synopses ([--json], status|process, <command>) are not command
// lines and are left out.
func TestDocumentedCommandLinesParse(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files = append([]string{filepath.Join("..", "..", "README.md")}, files...)
	checked := 0
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range documentedCommandLines(string(text)) {
			checked++
			if r := parseOnly(l.args[1:]); r.code != 0 && !namesFlag(l, r) {
				t.Errorf("%s:%d: %q: exit %d, stderr %q", f, l.line, strings.Join(l.args, " "), r.code, r.stderr)
			}
		}
	}
	t.Logf("%d command lines checked", checked)
	if checked < 20 {
		t.Errorf("found only %d command lines in the docs: the extraction missed them", checked)
	}
}

// namesFlag tells an inline mention of a flag (`hmperf ingest --file`),
// which ends at the flag, from a command line: the parser refused only the
// missing value of a flag it knows.
func namesFlag(l docLine, r result) bool {
	last := l.args[len(l.args)-1]
	return l.inline && strings.HasPrefix(last, "--") && strings.HasSuffix(r.stderr, "flag needs an argument: "+last+"\n")
}

// docLine is one command line found in a document, with its line number;
// inline when it stood in inline code rather than a code block.
type docLine struct {
	line   int
	args   []string
	inline bool
}

var inlineCode = regexp.MustCompile("`(hmperf [^`]+)`")

// documentedCommandLines finds the hmperf command lines of a Markdown
// text: lines of fenced code blocks that start with hmperf (a comment or a
// description after two spaces cut off) and inline code that does.
func documentedCommandLines(text string) []docLine {
	var out []docLine
	add := func(line int, cmd string, inline bool) {
		if args, ok := shellWords(cmd); ok && len(args) > 0 && args[0] == "hmperf" && !notCommands[strings.Join(args, " ")] {
			out = append(out, docLine{line, args, inline})
		}
	}
	fenced := false
	for i, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			for _, m := range inlineCode.FindAllStringSubmatch(l, -1) {
				add(i+1, m[1], true)
			}
			continue
		}
		cmd := strings.TrimPrefix(trimmed, "$ ")
		if !strings.HasPrefix(cmd, "hmperf ") {
			continue
		}
		cmd, _, _ = strings.Cut(cmd, " #")
		cmd, _, _ = strings.Cut(cmd, "  ")
		add(i+1, cmd, false)
	}
	return out
}

// synopsis matches what marks a synopsis rather than a command line:
// [optional] parts, a|b choices, (groups), <names> and placeholders (N, D,
// URL) standing alone.
var synopsis = regexp.MustCompile(`[\[\]{}()]|\S\|\S|<\w|(^|\s)[A-Z]+(\s|$)`)

// shellWords splits a command line as a shell would (quotes removed,
// nothing expanded), up to the first pipe or redirection; false for a
// synopsis, which no shell would run as written.
func shellWords(s string) ([]string, bool) {
	if synopsis.MatchString(s) {
		return nil, false
	}
	var words []string
	var cur strings.Builder
	quote, started := byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, started = c, true
		case c == ' ' || c == '\t':
			if started {
				words, started = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if started {
		words = append(words, cur.String())
	}
	for i, w := range words {
		if w == "|" || w == "<" || w == ">" || w == "&&" || w == ";" {
			return words[:i], true
		}
	}
	return words, quote == 0
}

// TestDocumentedCommandLines: the extraction finds code-block and inline
// command lines, cuts comments, descriptions and redirections, and leaves
// synopses and other text out; a documented line with a flag the command
// lacks does not parse.
func TestDocumentedCommandLines(t *testing.T) {
	t.Parallel()
	doc := "Run `hmperf alerts --json` or `hmperf [--json]`; `hmperf rows` is a label.\n" +
		"```sh\n" +
		"$ hmperf migrate status --dsn \"$DSN\"   # what is this?\n" +
		"hmperf local --replicas 2      a primary and 2 replicas\n" +
		"hmperf ingest --file - < payload.json\n" +
		"hmperf indexes status|process [--limit N]\n" +
		"hmperf local --replicas N\n" +
		"echo hmperf alerts\n" +
		"```\n" +
		"`hmperf alerts --rows 5`\n"
	var got []string
	for _, l := range documentedCommandLines(doc) {
		got = append(got, fmt.Sprintf("%d %q %v", l.line, l.args, l.inline))
	}
	want := []string{
		`1 ["hmperf" "alerts" "--json"] true`,
		`3 ["hmperf" "migrate" "status" "--dsn" "$DSN"] false`,
		`4 ["hmperf" "local" "--replicas" "2"] false`,
		`5 ["hmperf" "ingest" "--file" "-"] false`,
		`10 ["hmperf" "alerts" "--rows" "5"] true`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := parseOnly([]string{"alerts", "--rows", "5"}); r.code != 2 {
		t.Errorf("alerts --rows 5 parsed (exit %d)", r.code)
	}
}
