package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// bom is the UTF-8 byte order mark: with it, Excel opens a CSV file as
// UTF-8 (Chinese names stay readable) instead of the system code page.
const bom = "\uFEFF"

// Writer writes CSV for spreadsheets: a byte order mark first, then rows
// whose cells cannot be read as formulas (see Cell).
type Writer struct {
	cw  *csv.Writer
	row []string
}

// NewWriter writes the byte order mark to w and returns a Writer on it.
func NewWriter(w io.Writer) (*Writer, error) {
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, fmt.Errorf("export: write: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what Excel writes and expects
	return &Writer{cw: cw}, nil
}

// Write writes one row, each cell made safe with Cell.
func (w *Writer) Write(cells ...string) error {
	w.row = w.row[:0]
	for _, c := range cells {
		w.row = append(w.row, Cell(c))
	}
	if err := w.cw.Write(w.row); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

// Flush writes the buffered rows out and reports any write error.
func (w *Writer) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

// plainNumber is a cell a spreadsheet reads as a number and nothing else.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// Cell makes a cell safe from CSV injection: text starting with = + - @
// or a tab or carriage return would be read by a spreadsheet as a formula
// (=HYPERLINK(…), @SUM(…)), so it gets a leading apostrophe, which
// spreadsheets show as text. A plain number ("-12.50") stays a number.
func Cell(s string) string {
	if s == "" || plainNumber.MatchString(s) {
		return s
	}
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
