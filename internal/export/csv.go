package export

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark: with it, Excel opens a CSV file as
// UTF-8 (Chinese names stay readable) instead of the system code page.
const bom = "\uFEFF"

// Writer writes CSV for spreadsheets: a byte order mark first, then rows
// whose cells cannot be read as formulas (see Cell), lines ended by CRLF
// (what Excel writes and expects). It quotes as encoding/csv does, and
// also every cell holding a ";": Excel splits on ";" where that is the
// locale's list separator, and a cell starting after it ("好的;=cmd|…")
// would be a formula there (OWASP: mind the field separators).
type Writer struct {
	bw  *bufio.Writer
	err error
}

// NewWriter writes the byte order mark to w and returns a Writer on it.
func NewWriter(w io.Writer) (*Writer, error) {
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, fmt.Errorf("export: write: %w", err)
	}
	return &Writer{bw: bufio.NewWriter(w)}, nil
}

// Write writes one row, each cell made safe with Cell.
func (w *Writer) Write(cells ...string) error {
	for i, c := range cells {
		if i > 0 {
			w.bw.WriteByte(',')
		}
		w.field(Cell(c))
	}
	if _, err := w.bw.WriteString("\r\n"); err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return fmt.Errorf("export: write: %w", w.err)
	}
	return nil
}

// field writes one cell, quoted when it must be: a line break inside
// becomes CRLF and a lone CR is dropped, as encoding/csv does with
// UseCRLF.
func (w *Writer) field(s string) {
	if !needsQuotes(s) {
		w.bw.WriteString(s)
		return
	}
	w.bw.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			w.bw.WriteString(`""`)
		case '\r':
		case '\n':
			w.bw.WriteString("\r\n")
		default:
			w.bw.WriteByte(c)
		}
	}
	if err := w.bw.WriteByte('"'); err != nil && w.err == nil {
		w.err = err
	}
}

// needsQuotes: encoding/csv's rule (a comma, a quote, a line break, a
// leading space) plus a ";".
func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || strings.ContainsAny(s, ",;\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// Flush writes the buffered rows out and reports any write error.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return fmt.Errorf("export: write: %w", w.err)
	}
	return nil
}

// plainNumber is a cell a spreadsheet reads as a number and nothing else.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// Cell makes a cell safe from CSV injection: text starting with = + - @
// or a tab or carriage return would be read by a spreadsheet as a formula
// (=HYPERLINK(…), @SUM(…)), so it gets a leading apostrophe, which
// spreadsheets show as text. Leading whitespace does not hide the formula
// (spreadsheets that trim the cell still run it), so it is looked past. A
// plain number ("-12.50") stays a number.
func Cell(s string) string {
	if s == "" || plainNumber.MatchString(s) {
		return s
	}
	if strings.ContainsRune("\t\r", rune(s[0])) {
		return "'" + s
	}
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	if t != "" && !plainNumber.MatchString(t) && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + s
	}
	return s
}
