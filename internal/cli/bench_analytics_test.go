package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/store"
)

// `liveloop bench analytics` runs end to end on a small SQLite database:
// it generates the history, rolls it up (the rollup's message count is
// the log's), catches up new events, and measures the dashboard of each
// period; run again with -skip-generate it rebuilds the rollup of the
// same history, with -skip-rollup too it keeps it.
func TestBenchAnalyticsTiny(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.db")
	args := []string{"bench", "analytics", "-db", path, "-events", "5000", "-members", "300", "-groups", "5", "-days", "20",
		"-incremental", "500", "-repeat", "1", "-periods", "7,30"}
	code, out, errs := run(t, nil, args...)
	if code != 0 {
		t.Fatalf("bench analytics: %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"generate: 5,0", "rollup from zero: 5,0", "incremental: 500 new events appended",
		"dashboard, 7 days", "dashboard, 30 days", "page view: min", "Overview"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	rolledUp(t, path)

	code, out, errs = run(t, nil, append(args, "-skip-generate")...)
	if code != 0 || strings.Contains(out, "generate:") || !strings.Contains(out, "rollup from zero: 5,5") {
		t.Fatalf("bench analytics -skip-generate: %d\n%s\n%s", code, out, errs)
	}
	// -skip-rollup keeps the rollup, which the run before left caught
	// up: only this run's 500 new events are rolled up.
	code, out, errs = run(t, nil, append(args, "-skip-generate", "-skip-rollup")...)
	if code != 0 || !strings.Contains(out, "rollup of what is new: 0 events") || !strings.Contains(out, "(500 events read") {
		t.Fatalf("bench analytics -skip-rollup: %d\n%s\n%s", code, out, errs)
	}
	rolledUp(t, path)
	if code, _, errs := run(t, nil, "bench", "analytics", "-db", path, "-skip-rollup"); code != 1 || !strings.Contains(errs, "needs -skip-generate") {
		t.Fatalf("-skip-rollup alone: %d %q", code, errs)
	}
	if code, _, errs := run(t, nil, "bench", "analytics", "-events", "10"); code != 1 || !strings.Contains(errs, "-db is required") {
		t.Fatalf("without -db: %d %q", code, errs)
	}
	if code, _, errs := run(t, nil, "bench"); code != 1 || !strings.Contains(errs, "bench analytics") {
		t.Fatalf("bench alone: %d %q", code, errs)
	}
}

// rolledUp checks that the rollup counted every group message of the
// log once.
func rolledUp(t *testing.T, path string) {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logged, rolled int64
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'message' AND group_id IS NOT NULL`).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	if err := db.R.QueryRow(`SELECT COALESCE(SUM(value), 0) FROM an_daily WHERE metric = 'messages'`).Scan(&rolled); err != nil {
		t.Fatal(err)
	}
	if logged < 3000 || rolled != logged {
		t.Fatalf("%d group messages in the log, %d in the rollup", logged, rolled)
	}
}
