package migrations

import (
	"strings"
)

// statement is one SQL statement of a migration file and the line of the
// file it starts on.
type statement struct {
	SQL  string
	Line int
}

// FirstLine is the statement's first line that is not blank or a comment:
// what an error shows instead of the whole statement.
func (s statement) FirstLine() string {
	for _, l := range strings.Split(s.SQL, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "--") {
			return l
		}
	}
	return ""
}

// code is the statement without the comment lines before it.
func (s statement) code() string {
	lines := strings.Split(s.SQL, "\n")
	for i, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			return strings.TrimSpace(strings.Join(lines[i:], "\n"))
		}
	}
	return ""
}

// splitStatements cuts a migration file into its statements at the
// semicolons that end them: those outside quotes ('…', "…", E'…'),
// dollar quotes ($$…$$, $tag$…$tag$) and comments (-- and /* */). Blank
// and comment-only pieces are dropped. It is the splitter psql's own
// lexer would give for the files hmperf ships, which is all it must read.
func splitStatements(sql string) []statement {
	var out []statement
	start, line, startLine := 0, 1, 1
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			i = skipTo(sql, i, "\n", &line, true)
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			i = skipTo(sql, i+2, "*/", &line, false)
		case c == '\'':
			i = skipQuoted(sql, i+1, '\'', escapesBackslash(sql, i), &line)
		case c == '"':
			i = skipQuoted(sql, i+1, '"', false, &line)
		case c == '$':
			if tag, ok := dollarTag(sql[i:]); ok {
				i = skipTo(sql, i+len(tag), tag, &line, false)
			} else {
				i++
			}
		case c == ';':
			out = appendStatement(out, sql[start:i+1], startLine)
			i++
			start, startLine = i, line
		default:
			i++
		}
	}
	return appendStatement(out, sql[start:], startLine)
}

// appendStatement adds piece unless it holds only blanks and comments; its
// line is where its first non-blank text starts.
func appendStatement(out []statement, piece string, line int) []statement {
	trimmed := strings.TrimLeft(piece, " \t\r\n")
	line += strings.Count(piece[:len(piece)-len(trimmed)], "\n")
	s := statement{SQL: strings.TrimSpace(trimmed), Line: line}
	if onlyComments(s.SQL) {
		return out
	}
	// The line an error names is where the code starts, past comments.
	s.Line += strings.Count(s.SQL[:strings.Index(s.SQL, s.code())], "\n")
	return append(out, s)
}

// onlyComments reports whether sql has nothing but comments, blanks and a
// final semicolon.
func onlyComments(sql string) bool {
	for _, l := range strings.Split(sql, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && l != ";" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// skipTo returns the index just past the next end at or after i (past
// the end of sql when there is none, or, with keepEnd, at the end itself),
// counting the newlines it passes.
func skipTo(sql string, i int, end string, line *int, keepEnd bool) int {
	j := strings.Index(sql[i:], end)
	if j < 0 {
		*line += strings.Count(sql[i:], "\n")
		return len(sql)
	}
	stop := i + j
	if !keepEnd {
		stop += len(end)
	}
	*line += strings.Count(sql[i:stop], "\n")
	return stop
}

// skipQuoted returns the index just past the quote q that closes a quoted
// text starting at i; a doubled quote is part of it, and so is a character
// after a backslash where backslash escapes.
func skipQuoted(sql string, i int, q byte, backslash bool, line *int) int {
	for i < len(sql) {
		switch c := sql[i]; {
		case c == '\n':
			*line++
		case backslash && c == '\\':
			i++
		case c == q && i+1 < len(sql) && sql[i+1] == q:
			i++
		case c == q:
			return i + 1
		}
		i++
	}
	return i
}

// escapesBackslash reports whether the quote at i opens an E'…' string.
func escapesBackslash(sql string, i int) bool {
	if i == 0 || (sql[i-1] != 'E' && sql[i-1] != 'e') {
		return false
	}
	return i == 1 || !isIdentChar(sql[i-2])
}

// dollarTag returns the opening $tag$ at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1], true
		case !isIdentChar(c) || (j == 1 && c >= '0' && c <= '9'):
			return "", false
		}
	}
	return "", false
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
