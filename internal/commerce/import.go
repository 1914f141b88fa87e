package commerce

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/textnorm"
	"golang.org/x/text/transform"
)

// ImportBatch is how many orders one transaction of an import stores: a
// batch is all or nothing, an order always whole within one.
const ImportBatch = 500

// MaxReportedProblems bounds the rows a report lists (all are counted).
const MaxReportedProblems = 1000

// ImportOptions says how to read a file.
type ImportOptions struct {
	TenantID int64
	Mapping  Mapping
	Encoding string // auto, utf-8, gb18030 (gbk), big5
	Filename string
	Progress func(ImportProgress) // after each committed batch; nil: none
	// Batch is the number of orders a transaction stores (ImportBatch
	// when 0).
	Batch int
	// Quiet records the tier changes the imported orders cause without
	// telling the members (a first import of years of history would
	// otherwise message every buyer it upgrades); they are kept as not
	// notified. Upgrade benefits (coupon bundles) are still handed out.
	Quiet bool
}

// ImportProgress is how far an import is.
type ImportProgress struct {
	Read, Size int64 // bytes of the file
	Report     Report
}

// RowError is a row of the file that was not imported, and why. Row 1 is
// the header; a row is a CSV record (a quoted value may span lines).
type RowError struct {
	Row     int
	OrderID string
	Reason  string
}

// Report is the outcome of an import.
type Report struct {
	ImportID     int64
	Encoding     string
	Rows         int // data rows in the file
	Imported     int // orders stored
	Matched      int // of those, matched to a member
	Unmatched    int
	Duplicates   int // orders whose id was stored before
	Errors       int // rows refused (each listed in Problems, up to MaxReportedProblems)
	Problems     []RowError
	ResumedAfter int  // this run continued an interrupted one after this row (0: from the start)
	Done         bool // every row was read
}

func (r *Report) problem(p RowError) {
	r.Errors++
	if len(r.Problems) < MaxReportedProblems {
		r.Problems = append(r.Problems, p)
	}
}

// ImportRun is a recorded import of a file.
type ImportRun struct {
	ID                                                 int64
	SHA256, Filename, Mapping, Encoding                string
	RowsDone, Imported, Matched, Unmatched, Dups, Errs int
	StartedAt, UpdatedAt, FinishedAt                   time.Time
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type csvRow struct {
	no  int
	rec []string
}

type pending struct {
	id   string
	rows []csvRow
}

// Import reads a shop's CSV export into orders.
//
// The file is checked first: a header row holding every column the
// mapping needs (else nothing is imported and the error names the missing
// headers). Rows are grouped into orders by order id (an order's rows must
// be together, as exports write them); each order is validated whole —
// amounts (negative ones refused), dates, quantities, SKUs (a SKU the
// catalogue lacks is refused when the brand keeps a catalogue), values
// that disagree between an order's rows, an order id seen before in the
// file — and a refused order is reported row by row and not imported.
// Valid orders are stored ImportBatch at a time, each batch one
// transaction with the run's record (order_imports, by the file's
// SHA-256): the last row it covers and the counts so far. A failed batch
// leaves nothing, and importing the file again resumes after the last
// committed row with the counts of the first run; importing a file that
// was read to the end again reads it all, and finds every stored order a
// duplicate.
func (s *Service) Import(ctx context.Context, r io.ReadSeeker, opt ImportOptions) (Report, error) {
	var rep Report
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return rep, fmt.Errorf("commerce: read the file: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	enc, err := NormEncoding(opt.Encoding)
	if err != nil {
		return rep, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return rep, err
	}
	if enc == EncodingAuto {
		sample := make([]byte, 1<<20)
		n, _ := io.ReadFull(r, sample)
		enc = DetectEncoding(sample[:n])
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return rep, err
		}
	}
	rep.Encoding = enc
	counter := &countingReader{r: r}
	cr := csv.NewReader(transform.NewReader(counter, decoderOf(enc)))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return rep, invalid("the file is empty")
	}
	if err != nil {
		return rep, invalid("the file is not CSV: %v", err)
	}
	col, err := columns(header, opt.Mapping)
	if err != nil {
		return rep, err
	}
	_, loc, err := tenantLocale(ctx, s.db.R, opt.TenantID)
	if err != nil {
		return rep, err
	}
	cat, err := catalogue(ctx, s.db.R, opt.TenantID)
	if err != nil {
		return rep, err
	}
	rowsDone, err := s.startImport(ctx, opt, sum, enc, &rep)
	if err != nil {
		return rep, err
	}
	batchSize := opt.Batch
	if batchSize <= 0 {
		batchSize = ImportBatch
	}
	get := func(rec []string, f string) string {
		if i, ok := col[f]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	now := s.now()
	seen := map[string]int{}
	var batch []Order
	var cur *pending
	batchNo := 0
	commit := func(upTo int, done bool) error {
		err := s.commitBatch(ctx, opt.TenantID, rep.ImportID, batch, upTo, done, batchNo, opt.Quiet, &rep)
		if err != nil {
			return fmt.Errorf("commerce: import: a batch ending at row %d failed and stored nothing; import the file again to resume after row %d: %w",
				upTo, rowsDone, err)
		}
		rowsDone, batch = upTo, batch[:0]
		batchNo++
		if opt.Progress != nil {
			opt.Progress(ImportProgress{Read: counter.n, Size: size, Report: rep})
		}
		return nil
	}
	finish := func() {
		if cur != nil {
			if o, ok := s.buildOrder(cur, get, cat, loc, now, &rep); ok {
				o.TenantID = opt.TenantID
				batch = append(batch, o)
			}
			cur = nil
		}
	}
	row := 1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		if row <= rowsDone {
			if id := textnorm.Line(get(rec, FieldOrderID)); id != "" {
				if _, ok := seen[id]; !ok {
					seen[id] = row
				}
			}
			continue
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return rep, fmt.Errorf("commerce: read row %d: %w", row, err)
			}
			finish()
			rep.problem(RowError{Row: row, Reason: fmt.Sprintf("not valid CSV (line %d of the file): %v", pe.Line, pe.Err)})
			continue
		}
		id := textnorm.Line(get(rec, FieldOrderID))
		if id == "" {
			if strings.TrimSpace(strings.Join(rec, "")) == "" {
				continue // a blank line
			}
			finish()
			rep.problem(RowError{Row: row, Reason: "order id is empty"})
			continue
		}
		if cur != nil && id == cur.id {
			cur.rows = append(cur.rows, csvRow{row, rec})
			continue
		}
		finish()
		if len(batch) >= batchSize {
			if err := commit(row-1, false); err != nil {
				return rep, err
			}
		}
		if first, dup := seen[id]; dup {
			rep.problem(RowError{Row: row, OrderID: id, Reason: fmt.Sprintf("order id %s appears again (first on row %d): an order's rows must be together", id, first)})
			continue
		}
		seen[id] = row
		cur = &pending{id: id, rows: []csvRow{{row, rec}}}
	}
	finish()
	rep.Rows = row - 1
	if err := commit(row, true); err != nil {
		return rep, err
	}
	rep.Done = true
	return rep, nil
}

// columns finds the mapping's headers in the file's header row.
func columns(header []string, m Mapping) (map[string]int, error) {
	idx := map[string]int{}
	var have []string
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		have = append(have, h)
		if _, dup := idx[strings.ToLower(h)]; !dup {
			idx[strings.ToLower(h)] = i
		}
	}
	col := map[string]int{}
	var missing []string
	for _, f := range Fields {
		h, ok := m.Columns[f]
		if !ok {
			continue
		}
		if i, ok := idx[strings.ToLower(strings.TrimSpace(h))]; ok {
			col[f] = i
			continue
		}
		required := false
		for _, r := range requiredFields {
			required = required || r == f
		}
		if required || !m.Builtin {
			missing = append(missing, fmt.Sprintf("%q", h))
		}
	}
	if len(missing) > 0 {
		return nil, invalid("the file lacks the column(s) %s that the %s mapping needs; its header row is: %s",
			strings.Join(missing, ", "), m.Name, strings.Join(have, ", "))
	}
	return col, nil
}

// buildOrder turns an order's rows into an Order, or reports each row that
// is wrong and returns false.
func (s *Service) buildOrder(p *pending, get func([]string, string) string, cat map[string]int64, loc *time.Location, now time.Time, rep *Report) (Order, bool) {
	o := Order{ExternalID: p.id, Source: FromCSV}
	vals, valRow := map[string]string{}, map[string]int{}
	var problems []RowError
	bad := func(row int, format string, args ...any) {
		problems = append(problems, RowError{Row: row, OrderID: p.id, Reason: fmt.Sprintf(format, args...)})
	}
	for _, r := range p.rows {
		for _, f := range orderFields {
			v := get(r.rec, f)
			if v == "" {
				continue
			}
			if old, ok := vals[f]; !ok {
				vals[f], valRow[f] = v, r.no
			} else if old != v {
				bad(r.no, "order %s has another %s here (%q) than on row %d (%q)", p.id, f, v, valRow[f], old)
			}
		}
		sku, name, qty, price := get(r.rec, FieldSKU), get(r.rec, FieldName), get(r.rec, FieldQty), get(r.rec, FieldPrice)
		if sku == "" && name == "" && qty == "" && price == "" {
			continue
		}
		l := Line{SKU: textnorm.Line(sku), Name: name, Qty: 1}
		if qty != "" {
			n, err := strconv.ParseInt(qty, 10, 64)
			if err != nil || n <= 0 {
				bad(r.no, "quantity %q is not a whole number above 0", qty)
			}
			l.Qty = n
		}
		if price != "" {
			v, err := ParseMoney(price)
			switch {
			case err != nil:
				bad(r.no, "line price: %v", err)
			case v < 0:
				bad(r.no, "negative line price %s", price)
			}
			l.UnitPriceMinor = v
		}
		if l.SKU != "" && len(cat) > 0 {
			if _, ok := cat[l.SKU]; !ok {
				bad(r.no, "unknown SKU %q (add it under Products, then import again)", l.SKU)
			}
		}
		o.Lines = append(o.Lines, l)
	}
	first := p.rows[0].no
	at := func(f string) int {
		if r, ok := valRow[f]; ok {
			return r
		}
		return first
	}
	switch v, err := ParseMoney(vals[FieldAmount]); {
	case vals[FieldAmount] == "":
		bad(first, "amount is missing")
	case err != nil:
		bad(at(FieldAmount), "amount: %v", err)
	case v < 0:
		bad(at(FieldAmount), "negative amount %s", vals[FieldAmount])
	default:
		o.AmountMinor = v
	}
	if r := vals[FieldRefunded]; r != "" {
		switch v, err := ParseMoney(r); {
		case err != nil:
			bad(at(FieldRefunded), "refunded: %v", err)
		case v < 0:
			bad(at(FieldRefunded), "negative refunded amount %s", r)
		default:
			o.RefundedMinor = v
		}
	}
	if vals[FieldPaidAt] == "" {
		bad(first, "paid time is missing")
	} else if t, err := ParseTime(vals[FieldPaidAt], loc); err != nil {
		bad(at(FieldPaidAt), "paid time: %v", err)
	} else {
		o.PaidAt = t
	}
	o.Currency, o.Phone, o.Email, o.Coupon = vals[FieldCurrency], vals[FieldPhone], vals[FieldEmail], vals[FieldCoupon]
	o.Channel, o.ChannelUser = vals[FieldChannel], vals[FieldChannelUser]
	if len(problems) == 0 {
		if err := ValidateOrder(&o, now); err != nil {
			bad(first, "%s", detailOf(err))
		} else if err := resolveSKUs(&o, cat); err != nil {
			bad(first, "%s", detailOf(err))
		}
	}
	for _, pr := range problems {
		rep.problem(pr)
	}
	return o, len(problems) == 0
}

// detailOf is an error's reason after the sentinel's words.
func detailOf(err error) string {
	s := err.Error()
	if i := strings.Index(s, "invalid: "); i >= 0 {
		return s[i+len("invalid: "):]
	}
	return s
}

// startImport finds or creates the run of the file. An unfinished run
// with the same mapping and encoding is resumed (its counts carried into
// rep, its last row returned); anything else starts over.
func (s *Service) startImport(ctx context.Context, opt ImportOptions, sum, enc string, rep *Report) (int, error) {
	now := store.Millis(s.now())
	if _, err := s.db.W.ExecContext(ctx, `INSERT INTO order_imports (tenant_id, sha256, filename, mapping, encoding, started_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, sha256) DO NOTHING`,
		opt.TenantID, sum, textnorm.Line(opt.Filename), opt.Mapping.Name, enc, now); err != nil {
		return 0, fmt.Errorf("commerce: record the import: %w", err)
	}
	var rowsDone int
	var mapping, encoding string
	var finished int64
	err := s.db.W.QueryRowContext(ctx, `SELECT id, rows_done, imported, matched, unmatched, duplicates, errors, mapping, encoding, finished_at
		FROM order_imports WHERE tenant_id = $1 AND sha256 = $2`, opt.TenantID, sum).Scan(&rep.ImportID, &rowsDone, &rep.Imported, &rep.Matched,
		&rep.Unmatched, &rep.Duplicates, &rep.Errors, &mapping, &encoding, &finished)
	if err != nil {
		return 0, fmt.Errorf("commerce: the import's record: %w", err)
	}
	if finished == 0 && rowsDone > 0 && mapping == opt.Mapping.Name && encoding == enc {
		rep.ResumedAfter = rowsDone
		return rowsDone, nil
	}
	rep.Imported, rep.Matched, rep.Unmatched, rep.Duplicates, rep.Errors = 0, 0, 0, 0, 0
	_, err = s.db.W.ExecContext(ctx, `UPDATE order_imports SET rows_done = 0, imported = 0, matched = 0, unmatched = 0, duplicates = 0, errors = 0,
		filename = $3, mapping = $4, encoding = $5, started_at = $6, updated_at = $6, finished_at = 0 WHERE tenant_id = $1 AND id = $2`,
		opt.TenantID, rep.ImportID, textnorm.Line(opt.Filename), opt.Mapping.Name, enc, now)
	return 0, err
}

// commitBatch stores a batch of orders and the run's progress in one
// transaction; rep's counts move only when it commits.
func (s *Service) commitBatch(ctx context.Context, tenantID, importID int64, batch []Order, upTo int, done bool, batchNo int, quiet bool, rep *Report) error {
	var imported, matched, dups int
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		imported, matched, dups = 0, 0, 0
		tiers, err := tiersOf(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		w := batched(tx)
		w.quiet = quiet
		for i := range batch {
			o := batch[i] // a copy: a rolled-back batch leaves the orders as read
			stored, err := s.place(ctx, w, &o, tiers)
			if err != nil {
				return err
			}
			switch {
			case !stored:
				dups++
			case o.MemberID != 0:
				imported++
				matched++
			default:
				imported++
			}
		}
		if err := s.flushEvents(ctx, w); err != nil {
			return err
		}
		if s.importHook != nil {
			if err := s.importHook(batchNo); err != nil {
				return err
			}
		}
		var finished int64
		now := store.Millis(s.now())
		if done {
			finished = now
		}
		_, err = tx.ExecContext(ctx, `UPDATE order_imports SET rows_done = $3, imported = $4, matched = $5, unmatched = $6, duplicates = $7,
			errors = $8, updated_at = $9, finished_at = $10 WHERE tenant_id = $1 AND id = $2`, tenantID, importID, upTo,
			rep.Imported+imported, rep.Matched+matched, rep.Unmatched+imported-matched, rep.Duplicates+dups, rep.Errors, now, finished)
		return err
	})
	if err != nil {
		return err
	}
	rep.Imported += imported
	rep.Matched += matched
	rep.Unmatched += imported - matched
	rep.Duplicates += dups
	return nil
}

// Imports lists the tenant's recent import runs, the latest first.
func (s *Service) Imports(ctx context.Context, tenantID int64, limit int) ([]ImportRun, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, sha256, filename, mapping, encoding, rows_done, imported, matched, unmatched, duplicates, errors,
		started_at, updated_at, finished_at FROM order_imports WHERE tenant_id = $1 ORDER BY updated_at DESC, id DESC LIMIT `+fmt.Sprint(max(min(limit, 100), 1)), tenantID)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, func(r interface{ Scan(...any) error }) (ImportRun, error) {
		var run ImportRun
		var started, updated, finished int64
		err := r.Scan(&run.ID, &run.SHA256, &run.Filename, &run.Mapping, &run.Encoding, &run.RowsDone, &run.Imported, &run.Matched,
			&run.Unmatched, &run.Dups, &run.Errs, &started, &updated, &finished)
		run.StartedAt, run.UpdatedAt, run.FinishedAt = store.Time(started), store.Time(updated), store.Time(finished)
		return run, err
	})
}
