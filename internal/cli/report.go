package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/report"
)

const reportUsage = "report -brand SLUG [-kind weekly|monthly|custom] [-from YYYY-MM-DD [-to YYYY-MM-DD]] [-lang zh-CN|zh-TW|en] [-o FILE.html]"

// runReport makes a brand's review report (复盘), keeps it in the history
// and writes it as one standalone HTML file: liveloop report.
func runReport(e env, args []string) error {
	var brand, kindName, from, to, lang, out string
	cfg, fs, err := load(e, "report", args, func(fs *flag.FlagSet) {
		fs.StringVar(&brand, "brand", "", "the brand (its slug)")
		fs.StringVar(&kindName, "kind", "weekly", "weekly, monthly or custom")
		fs.StringVar(&from, "from", "", "weekly, monthly: a day of the week or month (default: the last whole one); custom: the first day")
		fs.StringVar(&to, "to", "", "custom: the last day (included)")
		fs.StringVar(&lang, "lang", "", "the report's language (default: the brand's)")
		fs.StringVar(&out, "o", "", "the HTML file to write (default: liveloop-BRAND-KIND-FROM.html; - for standard output)")
	})
	if err != nil {
		return err
	}
	kind, ok := report.ParseKind(kindName)
	if brand == "" || fs.NArg() > 0 || !ok || (kind == report.Custom && (from == "" || to == "")) {
		return errors.New("usage: liveloop " + reportUsage)
	}
	if lang != "" && !i18n.Supported(lang) {
		return fmt.Errorf("-lang %q: use zh-CN, zh-TW or en", lang)
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
	p := report.LastPeriod(kind, time.Now(), t.Location())
	if from != "" {
		if p, err = report.ParsePeriod(kind, from, to); err != nil {
			return err
		}
	}
	// The rollup runs inside `serve`; catch up here so that the numbers
	// are current even when liveloop is not running.
	if _, err := a.Rollup.Catchup(e.ctx); err != nil {
		return err
	}
	st, created, err := a.Reports.Generate(e.ctx, t.ID, kind, p, 0)
	if err != nil {
		return err
	}
	if lang == "" {
		lang = t.Locale
	}
	if out == "" {
		out = fmt.Sprintf("liveloop-%s-%s-%s.html", t.Slug, kind, p.From)
	}
	if err := writeReport(e, a, st, lang, out); err != nil {
		return err
	}
	w := e.stdout
	if out == "-" {
		w = e.stderr // the HTML is on standard output
	}
	printSummary(w, a.Reports.Catalog(), lang, st, created, out)
	return nil
}

func writeReport(e env, a *app.App, st report.Stored, lang, out string) error {
	if out == "-" {
		return a.Web.WriteReportHTML(e.stdout, st, lang)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := a.Web.WriteReportHTML(f, st, lang); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printSummary tells what was made and its top findings.
func printSummary(w io.Writer, cat *i18n.Catalog, lang string, st report.Stored, created bool, out string) {
	state := "already in the history"
	if created {
		state = "made and kept in the history"
	}
	fmt.Fprintf(w, "report #%d (%s): %s\n", st.ID, state, report.Title(cat, lang, st.Kind, st.Period))
	fs := st.Report.Findings
	for i, f := range fs[:min(len(fs), report.TopFindings)] {
		fmt.Fprintf(w, "  %d. %s\n", i+1, f.Text(cat, lang))
	}
	if out != "-" {
		fmt.Fprintf(w, "written to %s\n", out)
	}
}
