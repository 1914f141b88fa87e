package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"text/tabwriter"

	"github.com/liveloop/liveloop/internal/analytics"
	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/i18n"
)

const analyticsUsage = "analytics catchup | rebuild | show -brand SLUG [-from YYYY-MM-DD -to YYYY-MM-DD] [-group ID] [-channel web|telegram|line] [-json]"

// analyticsCmd is `liveloop analytics`: bring the rollup up to date,
// rebuild it from the log, or print a brand's metrics with their
// definitions (the numbers the dashboard shows).
func analyticsCmd(e env, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: liveloop " + analyticsUsage)
	}
	sub := args[0]
	var brand, from, to, channel, lang string
	var group int64
	var asJSON bool
	cfg, _, err := load(e, "analytics "+sub, args[1:], func(fs *flag.FlagSet) {
		if sub != "show" {
			return
		}
		fs.StringVar(&brand, "brand", "", "the brand (its slug)")
		fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: 30 days ago)")
		fs.StringVar(&to, "to", "", "last day, inclusive (default: today)")
		fs.Int64Var(&group, "group", 0, "one group's id")
		fs.StringVar(&channel, "channel", "", "the groups of one channel: web, telegram or line")
		fs.StringVar(&lang, "lang", "", "language of the names: en, zh-CN, zh-TW (default: the brand's)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	switch sub {
	case "catchup", "rebuild", "show":
	default:
		return errors.New("usage: liveloop " + analyticsUsage)
	}
	a, err := app.Open(e.ctx, cfg, logger(cfg, e.stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "rebuild" {
		if err := a.Rollup.Rebuild(e.ctx); err != nil {
			return err
		}
	}
	n, err := a.Rollup.Catchup(e.ctx)
	if err != nil {
		return err
	}
	if sub != "show" {
		fmt.Fprintf(e.stdout, "rolled up %d events\n", n)
		return nil
	}
	if brand == "" {
		return errors.New("-brand is required")
	}
	t, err := a.Tenants.BySlug(e.ctx, brand)
	if err != nil {
		return fmt.Errorf("no brand %q: %w", brand, err)
	}
	if !analytics.ValidChannel(channel) {
		return fmt.Errorf("-channel %q: want web, telegram or line", channel)
	}
	loc := t.Location()
	p := analytics.LastDays(a.Analytics.Today(loc), 30)
	if from != "" {
		if p.From, err = analytics.ParseDay(from); err != nil {
			return err
		}
	}
	if to != "" {
		last, err := analytics.ParseDay(to)
		if err != nil {
			return err
		}
		p.To = last + 1
	}
	if p.To <= p.From {
		return errors.New("-to is before -from")
	}
	vals, err := a.Analytics.Overview(e.ctx, analytics.Filter{TenantID: t.ID, Period: p, GroupID: group, Channel: channel, Loc: loc})
	if err != nil {
		return err
	}
	if asJSON {
		out := map[string]any{"from": p.From.String(), "to": (p.To - 1).String(), "metrics": jsonValues(vals)}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if lang == "" {
		lang = t.Locale
	}
	cat := i18n.MustLoad()
	fmt.Fprintf(e.stdout, "%s  %s … %s\n\n", t.Name, p.From, p.To-1)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, d := range analytics.Defs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", cat.T(lang, "metric."+d.Key), formatValue(d, vals[d.Key]), cat.T(lang, "metric."+d.Key+".def"))
	}
	return tw.Flush()
}

// jsonValues is the metrics as numbers, null where a ratio is over
// nothing.
func jsonValues(vals map[string]analytics.Value) map[string]any {
	out := map[string]any{}
	for k, v := range vals {
		if v.OK() && !math.IsNaN(v.Float()) {
			out[k] = v.Float()
		} else {
			out[k] = nil
		}
	}
	return out
}

func formatValue(d analytics.Def, v analytics.Value) string {
	if !v.OK() {
		return "—"
	}
	f := v.Float()
	switch d.Unit {
	case analytics.Percent:
		return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	case analytics.Money:
		return strconv.FormatFloat(f/100, 'f', 2, 64)
	case analytics.PerDay, analytics.Days:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 0, 64)
}
