package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/export"
)

const exportUsage = "export -brand SLUG -kind members|orders|events|messages [-from YYYY-MM-DD] [-to YYYY-MM-DD] [-o FILE.csv]"

// exportData writes one kind of a brand's data as CSV (UTF-8 with a byte
// order mark) to a file or stdout: liveloop export.
func exportData(e env, args []string) error {
	var brand, kind, from, to, out string
	cfg, fs, err := load(e, "export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&brand, "brand", "", "the brand (its slug) whose data to export")
		fs.StringVar(&kind, "kind", "", "what to export: members, orders, events or messages")
		fs.StringVar(&from, "from", "", "first day of the period, in the brand's time zone (default: from the start)")
		fs.StringVar(&to, "to", "", "last day of the period, included (default: up to now)")
		fs.StringVar(&out, "o", "", "the file to write (default: standard output)")
	})
	if err != nil {
		return err
	}
	if brand == "" || kind == "" || fs.NArg() > 0 {
		return errors.New("usage: liveloop " + exportUsage)
	}
	k, err := export.ParseKind(kind)
	if err != nil {
		return err
	}
	a, err := app.Open(e.ctx, cfg, logger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.BySlug(e.ctx, brand)
	if err != nil {
		return fmt.Errorf("no brand %q: %w", brand, err)
	}
	loc := t.Location()
	f, tt, err := export.Days(from, to, loc)
	if err != nil {
		return err
	}
	req := export.Request{TenantID: t.ID, Kind: k, From: f, To: tt, Loc: loc}
	n, err := writeExport(e, out, func(w io.Writer) (int64, error) { return export.Write(e.ctx, a.DB, req, w) })
	if err != nil {
		return err
	}
	where := out
	if where == "" {
		where = "standard output"
	}
	fmt.Fprintf(e.stderr, "exported %d %s of %s to %s\n", n, k, t.Slug, where)
	return nil
}

// writeExport runs write on the file (removed again if the export fails)
// or on stdout, buffered.
func writeExport(e env, path string, write func(io.Writer) (int64, error)) (int64, error) {
	if path == "" {
		bw := bufio.NewWriter(e.stdout)
		n, err := write(bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		return n, err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(file)
	n, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return n, err
}
