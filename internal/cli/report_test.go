package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// liveloop report: a report made, kept in the history and written as one
// standalone HTML file; asked again for the same week, the one in the
// history; bad flags stop with the usage or one clear line.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.db")
	env := []string{"LIVELOOP_OWNER_PASSWORD=owner-password-1"}
	if code, _, errs := run(t, env, "tenant", "-db", db, "-slug", "shop", "-name", "小店", "-owner-email", "boss@shop.test"); code != 0 {
		t.Fatalf("tenant: %s", errs)
	}
	file := filepath.Join(dir, "week.html")
	code, out, errs := run(t, nil, "report", "-db", db, "-brand", "shop", "-from", "2026-11-18", "-lang", "en", "-o", file)
	if code != 0 || !strings.Contains(out, "report #1 (made and kept in the history): Weekly review 2026-11-16 – 2026-11-22") ||
		!strings.Contains(out, "1. No activity from 2026-11-16 to 2026-11-22") || !strings.Contains(out, "written to "+file) {
		t.Fatalf("report: %d\n%s\n%s", code, out, errs)
	}
	html, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!doctype html>", `id="report-data"`, "getInstanceByDom", "Weekly review 2026-11-16 – 2026-11-22"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the file lacks %q", want)
		}
	}
	if strings.Contains(string(html), `src="/static`) {
		t.Errorf("the file loads from the server")
	}
	code, out, errs = run(t, nil, "report", "-db", db, "-brand", "shop", "-from", "2026-11-22", "-o", "-")
	if code != 0 || !strings.HasPrefix(out, "<!doctype html>") || !strings.Contains(out, "周复盘 2026-11-16 – 2026-11-22") ||
		!strings.Contains(out, "没有任何活动") || !strings.Contains(errs, "report #1 (already in the history)") || !strings.Contains(errs, "1. ") {
		t.Fatalf("to standard output: %d %.200s\n%s", code, out, errs)
	}
	for _, args := range [][]string{
		{"report", "-db", db},
		{"report", "-db", db, "-brand", "shop", "-kind", "daily"},
		{"report", "-db", db, "-brand", "shop", "-kind", "custom", "-from", "2026-11-18"},
	} {
		if code, _, errs := run(t, nil, args...); code != 1 || !strings.Contains(errs, "usage: liveloop report") {
			t.Errorf("%v: %d %q", args, code, errs)
		}
	}
	if code, _, errs := run(t, nil, "report", "-db", db, "-brand", "nope"); code != 1 || !strings.Contains(errs, `no brand "nope"`) {
		t.Errorf("unknown brand: %d %q", code, errs)
	}
	if code, _, errs := run(t, nil, "report", "-db", db, "-brand", "shop", "-kind", "custom", "-from", "2026-11-18", "-to", "2026-11-01"); code != 1 ||
		!strings.Contains(errs, "is not a period") {
		t.Errorf("custom backwards: %d %q", code, errs)
	}
}
