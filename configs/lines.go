package configs

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
)

// utf8BOM is the byte-order mark that may start a UTF-8 file.
const utf8BOM = "\xef\xbb\xbf"

// lineIndex records the line on which each key of a TOML document is
// defined. The toml package keeps key positions to itself, so the document
// is scanned again here, just closely enough to follow table headers,
// arrays of tables, dotted and quoted keys, inline tables, arrays, strings
// and comments. Keys are recorded in the form joinKey produces, with array
// elements written as key[N]; table headers are recorded too.
//
// It also records the span of each key-value pair, from the key to the end
// of the line its value ends on (or to where the scanner stopped inside
// the value), so that a syntax error can be blamed on the key being
// defined where it occurred.
//
// The scanner never fails: on input it does not understand it stops, and
// keys after that point are simply not found.
type lineIndex struct {
	lines map[string]int // key -> 1-based line
	spans []span         // key-value pairs in the order their values end
}

// span is the extent [start, end] of the definition of key, as offsets.
type span struct {
	key        string
	start, end int
}

// indexLines scans src, a TOML document.
func indexLines(src []byte) *lineIndex {
	s := &scanner{
		src:   src,
		idx:   &lineIndex{lines: make(map[string]int)},
		count: make(map[string]int),
	}
	for i, c := range src {
		if c == '\n' {
			s.newlines = append(s.newlines, i)
		}
	}
	if bytes.HasPrefix(src, []byte(utf8BOM)) {
		s.i = len(utf8BOM)
	}
	s.document()
	return s.idx
}

// line returns the line of key, or 0 if key is not in the document.
func (x *lineIndex) line(key string) int {
	return x.lines[key]
}

// lineOrParent returns the line of key or, failing that, of the nearest
// enclosing key or table that is in the document.
func (x *lineIndex) lineOrParent(key string) int {
	for key != "" {
		if n, ok := x.lines[key]; ok {
			return n
		}
		key = parentKey(key)
	}
	return 0
}

// keyAt returns the key whose definition spans offset off, the innermost
// for the keys of an inline table, or "" if off is in no definition.
func (x *lineIndex) keyAt(off int) string {
	key, start := "", -1
	for _, s := range x.spans {
		if s.start <= off && off <= s.end && s.start > start {
			key, start = s.key, s.start
		}
	}
	return key
}

type scanner struct {
	src      []byte
	i        int
	newlines []int // offsets of '\n'
	idx      *lineIndex
	count    map[string]int // entries seen per array of tables
}

func (s *scanner) lineAt(off int) int {
	return 1 + sort.SearchInts(s.newlines, off)
}

func (s *scanner) record(key string, off int) {
	if _, ok := s.idx.lines[key]; ok {
		return
	}
	s.idx.lines[key] = s.lineAt(off)
}

func (s *scanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

func (s *scanner) peekString(p string) bool {
	return bytes.HasPrefix(s.src[s.i:], []byte(p))
}

// skipBlank skips spaces and tabs.
func (s *scanner) skipBlank() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// skipSpace skips whitespace, newlines and comments.
func (s *scanner) skipSpace() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		case '#':
			s.skipLine()
		default:
			return
		}
	}
}

// skipLine moves to the next newline.
func (s *scanner) skipLine() {
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		s.i++
	}
}

func (s *scanner) document() {
	prefix := ""
	for {
		s.skipSpace()
		if s.i >= len(s.src) {
			return
		}
		start := s.i
		ok := false
		if s.peek() == '[' {
			prefix, ok = s.header()
		} else {
			ok = s.keyValue(prefix)
		}
		if !ok || s.i == start {
			return
		}
		s.skipLine()
	}
}

// header reads a [table] or [[array]] header and returns the key it opens.
func (s *scanner) header() (string, bool) {
	start := s.i
	s.i++
	array := s.peek() == '['
	if array {
		s.i++
	}
	segs, ok := s.key()
	if !ok {
		return "", false
	}
	s.skipBlank()
	closing := "]"
	if array {
		closing = "]]"
	}
	if !s.peekString(closing) {
		return "", false
	}
	s.i += len(closing)

	path := ""
	for j, seg := range segs {
		path = joinKey(path, seg)
		n := s.count[path]
		switch {
		case array && j == len(segs)-1:
			s.record(path, start)
			s.count[path] = n + 1
			path = indexKey(path, n)
		case n > 0:
			path = indexKey(path, n-1)
		}
	}
	s.record(path, start)
	return path, true
}

// keyValue reads "key = value" inside the table prefix.
func (s *scanner) keyValue(prefix string) bool {
	start := s.i
	segs, ok := s.key()
	if !ok {
		return false
	}
	s.skipBlank()
	if s.peek() != '=' {
		return false
	}
	s.i++
	path := prefix
	for _, seg := range segs {
		path = joinKey(path, seg)
	}
	s.record(path, start)
	s.skipBlank()
	ok = s.value(path)
	end := s.i
	if ok {
		// Up to the end of the line: what follows the value on its line
		// belongs to its definition.
		end = len(s.src)
		if i := bytes.IndexByte(s.src[s.i:], '\n'); i >= 0 {
			end = s.i + i
		}
	}
	s.idx.spans = append(s.idx.spans, span{path, start, end})
	return ok
}

// key reads a possibly dotted key and returns its segments.
func (s *scanner) key() ([]string, bool) {
	var segs []string
	for {
		s.skipBlank()
		seg, ok := s.keySegment()
		if !ok {
			return nil, false
		}
		segs = append(segs, seg)
		s.skipBlank()
		if s.peek() != '.' {
			return segs, true
		}
		s.i++
	}
}

func (s *scanner) keySegment() (string, bool) {
	switch q := s.peek(); q {
	case '"', '\'':
		start := s.i
		s.i++
		for s.i < len(s.src) && s.src[s.i] != q && s.src[s.i] != '\n' {
			if q == '"' && s.src[s.i] == '\\' {
				s.i++
			}
			s.i++
		}
		if s.peek() != q {
			return "", false
		}
		s.i++
		raw := string(s.src[start:s.i])
		if q == '\'' {
			return raw[1 : len(raw)-1], true
		}
		if u, err := strconv.Unquote(raw); err == nil {
			return u, true
		}
		return raw[1 : len(raw)-1], true
	default:
		start := s.i
		for s.i < len(s.src) && isBare(s.src[s.i]) {
			s.i++
		}
		return string(s.src[start:s.i]), s.i > start
	}
}

// value skips one value, recording the keys of inline tables under path.
func (s *scanner) value(path string) bool {
	switch s.peek() {
	case '"', '\'':
		return s.str()
	case '[':
		return s.array(path)
	case '{':
		return s.inlineTable(path)
	}
	start := s.i
	for s.i < len(s.src) && !strings.ContainsRune(",]}#\r\n", rune(s.src[s.i])) {
		s.i++
	}
	return s.i > start
}

func (s *scanner) str() bool {
	q := s.src[s.i]
	triple := strings.Repeat(string(q), 3)
	if !s.peekString(triple) {
		s.i++
		for s.i < len(s.src) && s.src[s.i] != q && s.src[s.i] != '\n' {
			if q == '"' && s.src[s.i] == '\\' {
				s.i++
			}
			s.i++
		}
		if s.peek() != q {
			return false
		}
		s.i++
		return true
	}
	s.i += 3
	for s.i < len(s.src) {
		if s.peekString(triple) {
			s.i += 3
			// Up to two more quotes may end the content.
			for n := 0; n < 2 && s.peek() == q; n++ {
				s.i++
			}
			return true
		}
		if q == '"' && s.src[s.i] == '\\' {
			s.i++
		}
		s.i++
	}
	return false
}

func (s *scanner) array(path string) bool {
	s.i++
	for n := 0; ; n++ {
		s.skipSpace()
		if s.peek() == ']' {
			s.i++
			return true
		}
		// Only tables and arrays hold keys to record, so only they need
		// the element's key (an array of a million numbers is scanned
		// without making a million keys).
		elem := path
		if c := s.peek(); c == '{' || c == '[' {
			elem = indexKey(path, n)
		}
		if !s.value(elem) {
			return false
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) inlineTable(path string) bool {
	s.i++
	for {
		s.skipSpace()
		if s.peek() == '}' {
			s.i++
			return true
		}
		if !s.keyValue(path) {
			return false
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func isBare(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// joinKey appends the key segment seg to the dotted key prefix, quoting seg
// if it is not a bare TOML key.
func joinKey(prefix, seg string) string {
	q := seg
	bare := seg != ""
	for i := 0; i < len(seg); i++ {
		if !isBare(seg[i]) {
			bare = false
			break
		}
	}
	if !bare {
		q = strconv.Quote(seg)
	}
	if prefix == "" {
		return q
	}
	return prefix + "." + q
}

// indexKey names element n of the array key.
func indexKey(key string, n int) string {
	return key + "[" + strconv.Itoa(n) + "]"
}

// splitKey splits a key made by joinKey and indexKey before its last part: a
// trailing [N] index, or else the last segment. It reports false for a key
// of one segment.
func splitKey(key string) (parent string, ok bool) {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i > 0 {
			if _, err := strconv.Atoi(key[i+1 : len(key)-1]); err == nil {
				return key[:i], true
			}
		}
	}
	last := -1
	quoted := false
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '.' && !quoted:
			last = i
		}
	}
	if last < 0 {
		return "", false
	}
	return key[:last], true
}

// parentKey returns the key that encloses key, or "" if there is none.
func parentKey(key string) string {
	p, _ := splitKey(key)
	return p
}

// stripIndex removes a trailing [N] index from key.
func stripIndex(key string) string {
	if strings.HasSuffix(key, "]") {
		if p, ok := splitKey(key); ok && len(p) < len(key) && key[len(p)] == '[' {
			return p
		}
	}
	return key
}

// stripIndices removes every [N] index from a key.
func stripIndices(key string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '\\' && quoted && i+1 < len(key):
			b.WriteByte(c)
			i++
			c = key[i]
		case c == '"':
			quoted = !quoted
		case c == '[' && !quoted:
			j := strings.IndexByte(key[i:], ']')
			if j < 0 {
				break
			}
			i += j
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
