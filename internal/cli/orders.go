package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/commerce"
)

const ordersUsage = "orders import -brand SLUG -mapping shopify|generic|MAPPING.json [-encoding auto|utf-8|gbk|big5] [-quiet] FILE.csv"

// orders imports a shop's CSV export of orders: liveloop orders import.
func orders(e env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New("usage: liveloop " + ordersUsage)
	}
	var brand, mapping, encoding string
	var quiet bool
	cfg, fs, err := load(e, "orders import", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&brand, "brand", "", "the brand (its slug) the orders belong to")
		fs.StringVar(&mapping, "mapping", "generic", "column mapping: shopify, generic, or a JSON file {field: header}")
		fs.StringVar(&encoding, "encoding", "auto", "the file's encoding: auto, utf-8, gbk (gb18030) or big5")
		fs.BoolVar(&quiet, "quiet", false, "record tier changes without messaging the members (a first import of past orders)")
	})
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	if brand == "" || path == "" || fs.NArg() > 1 {
		return errors.New("usage: liveloop " + ordersUsage + " (flags before the file)")
	}
	m, ok := commerce.MappingNamed(mapping)
	if !ok {
		b, err := os.ReadFile(mapping)
		if err != nil {
			return fmt.Errorf("mapping %q is neither shopify, generic nor a readable JSON file: %w", mapping, err)
		}
		if m, err = commerce.ParseMapping(mapping, b); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := app.Open(e.ctx, cfg, logger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.BySlug(e.ctx, brand)
	if err != nil {
		return fmt.Errorf("no brand %q: %w", brand, err)
	}
	bar := progressBar(e.stderr)
	rep, err := a.Commerce.Import(e.ctx, f, commerce.ImportOptions{TenantID: t.ID, Mapping: m, Encoding: encoding, Filename: path, Progress: bar, Quiet: quiet})
	if rep.ImportID != 0 {
		bar(commerce.ImportProgress{Read: -1, Report: rep}) // end the bar's line
		printReport(e.stdout, rep)
	}
	return err
}

// progressBar draws the import's progress on w: a bar redrawn in place on
// a terminal, a line every few seconds otherwise (a log file, CI).
func progressBar(w io.Writer) func(commerce.ImportProgress) {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	var last time.Time
	drawn := false
	return func(p commerce.ImportProgress) {
		if p.Read < 0 {
			if tty && drawn {
				fmt.Fprintln(w)
			}
			return
		}
		pct := 100
		if p.Size > 0 {
			pct = int(p.Read * 100 / p.Size)
		}
		r := p.Report
		if tty {
			const width = 30
			fill := pct * width / 100
			fmt.Fprintf(w, "\r[%s%s] %3d%%  %d imported, %d duplicates, %d errors", strings.Repeat("#", fill), strings.Repeat(".", width-fill),
				pct, r.Imported, r.Duplicates, r.Errors)
			drawn = true
			return
		}
		if time.Since(last) >= 2*time.Second {
			last = time.Now()
			fmt.Fprintf(w, "import: %d%% read, %d imported, %d duplicates, %d errors\n", pct, r.Imported, r.Duplicates, r.Errors)
		}
	}
}

func printReport(w io.Writer, r commerce.Report) {
	if r.ResumedAfter > 0 {
		fmt.Fprintf(w, "resumed an interrupted import after row %d\n", r.ResumedAfter)
	}
	fmt.Fprintf(w, "encoding:   %s\nrows:       %d\nimported:   %d\nmatched:    %d\nunmatched:  %d\nduplicates: %d\nerrors:     %d\n",
		r.Encoding, r.Rows, r.Imported, r.Matched, r.Unmatched, r.Duplicates, r.Errors)
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nrows not imported (fix them and import the file again; imported orders are skipped):")
		for _, p := range r.Problems {
			id := ""
			if p.OrderID != "" {
				id = " (" + p.OrderID + ")"
			}
			fmt.Fprintf(w, "  row %d%s: %s\n", p.Row, id, p.Reason)
		}
		if r.Errors > len(r.Problems) {
			fmt.Fprintf(w, "  … and %d more\n", r.Errors-len(r.Problems))
		}
	}
}
