// Package cli is the liveloop command line: serve, demo, migrate, backup,
// tenant, config and version. Each command parses its flags into
// config.Config and calls into the feature packages; none holds logic of
// its own beyond printing.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/liveloop/liveloop/internal/app"
	"github.com/liveloop/liveloop/internal/config"
	"github.com/liveloop/liveloop/internal/demo"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// Version is set at build time with -ldflags "-X .../cli.Version=v1.2.3".
var Version = ""

// env is one command invocation's surroundings.
type env struct {
	ctx     context.Context
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
}

type command struct {
	name, usage string
	run         func(e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run liveloop (HTTP, community, outbox)", serve},
		{"demo", "seed the demo brand, then serve it", runDemo},
		{"migrate", "apply pending database migrations", migrate},
		{"backup", "write a consistent copy of the SQLite database: backup FILE", backup},
		{"tenant", "create a brand and its owner account", createTenant},
		{"config", "print a sample configuration file listing every key", printConfig},
		{"lottery", "verify a live lottery's published draw: lottery verify FILE", lottery},
		{"orders", "import a shop's CSV export: " + ordersUsage, orders},
		{"report", "make a review report (复盘) as one HTML file: " + reportUsage, runReport},
		{"export", "write a brand's data as CSV: " + exportUsage, exportData},
		{"analytics", "the metrics: " + analyticsUsage, analyticsCmd},
		{"bench", "load a running liveloop: bench live -room /l/BRAND/ID -join CODE; measure the analytics: bench analytics -db DSN", bench},
		{"version", "print the version", printVersion},
	}
}

// Run executes the command line and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	e := env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, environ: environ}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(e, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if err != nil {
				fmt.Fprintln(stderr, "liveloop "+c.name+": "+err.Error())
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "liveloop: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "liveloop — live room → community → repeat purchase → next live\n\nUsage: liveloop COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nEvery command takes -config FILE, -db and the other settings of `liveloop config`; `liveloop COMMAND -h` lists them.")
}

// load parses a command's flags into the configuration.
func load(e env, name string, args []string, extra func(fs *flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("liveloop "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if extra != nil {
		extra(fs)
	}
	cfg, err := config.Load(fs, args, e.environ)
	return cfg, fs, err
}

func logger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(e env, args []string) error {
	cfg, _, err := load(e, "serve", args, nil)
	if err != nil {
		return err
	}
	log := logger(cfg, e.stderr)
	start := time.Now()
	a, err := app.Open(e.ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	log.Info("ready", "took", time.Since(start).Round(time.Millisecond))
	return a.Serve(e.ctx, ln)
}

func runDemo(e env, args []string) error {
	var seed int64
	var seedOnly bool
	cfg, _, err := load(e, "demo", args, func(fs *flag.FlagSet) {
		fs.Int64Var(&seed, "seed", 2026, "seed of the generated demo data")
		fs.BoolVar(&seedOnly, "seed-only", false, "seed the demo brand and exit without serving")
	})
	if err != nil {
		return err
	}
	log := logger(cfg, e.stderr)
	a, err := app.Open(e.ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil && !seedOnly {
		return err
	}
	res, created, err := demo.Seed(e.ctx, demo.Deps{DB: a.DB, Tenants: a.Tenants, Members: a.Members, Community: a.Community, Log: a.Log,
		Bot: a.Bot, Loyalty: a.Loyalty, Polls: a.Polls, Accounts: a.Accounts, Lives: a.Lives, Campaigns: a.Campaigns}, seed, time.Now())
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return fmt.Errorf("seed demo: %w", err)
	}
	// Last week's review report in the history (made once; kept after).
	if _, err := a.DemoReport(e.ctx, res.Tenant.ID, time.Now()); err != nil {
		log.Warn("demo: last week's review report", "err", err)
	}
	state := "already there"
	if created {
		state = "seeded"
	}
	url := cfg.PublicURL()
	fmt.Fprintf(e.stdout, `
  liveloop demo — %s (%s: %d members, %d groups, %d messages)

  Console:      %s/login?tenant=%s
  Brand:        %s
  Operator:     %s
  Password:     %s
  Member join:  %s/j/%s

`, res.Tenant.Name, state, res.Members, len(res.Groups), res.Messages, url, res.Tenant.Slug, res.Tenant.Slug,
		res.OperatorEmail, res.Password, url, res.JoinCode)
	if seedOnly {
		if ln != nil {
			ln.Close()
		}
		return nil
	}
	return a.Serve(e.ctx, ln)
}

func migrate(e env, args []string) error {
	cfg, _, err := load(e, "migrate", args, nil)
	if err != nil {
		return err
	}
	db, err := store.Open(e.ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(e.ctx)
	if err != nil {
		return err
	}
	v, _ := db.SchemaVersion(e.ctx)
	fmt.Fprintf(e.stdout, "applied %d migration(s); schema is at version %d\n", n, v)
	return nil
}

func backup(e env, args []string) error {
	cfg, fs, err := load(e, "backup", args, nil)
	if err != nil {
		return err
	}
	db, err := store.Open(e.ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Dialect == store.Postgres {
		fmt.Fprint(e.stdout, db.PostgresBackupRecipe())
		return nil
	}
	dest := fs.Arg(0)
	if dest == "" {
		dest = fmt.Sprintf("liveloop-backup-%s.db", time.Now().UTC().Format("20060102-150405"))
	}
	if err := db.Backup(e.ctx, dest); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", dest)
	return nil
}

func createTenant(e env, args []string) error {
	var slug, name, tz, locale, email, ownerName string
	cfg, _, err := load(e, "tenant", args, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "slug", "", "short name used in links and at login (lowercase letters, digits, dashes)")
		fs.StringVar(&name, "name", "", "display name of the brand")
		fs.StringVar(&tz, "timezone", "Asia/Shanghai", "time zone the brand schedules in")
		fs.StringVar(&locale, "locale", "zh-CN", "default language: zh-CN, zh-TW or en")
		fs.StringVar(&email, "owner-email", "", "email of the owner's console account")
		fs.StringVar(&ownerName, "owner-name", "", "name of the owner")
	})
	if err != nil {
		return err
	}
	if slug == "" || name == "" || email == "" {
		return errors.New("-slug, -name and -owner-email are required")
	}
	password := strings.TrimSpace(envValue(e.environ, "LIVELOOP_OWNER_PASSWORD"))
	generated := password == ""
	if generated {
		password = strings.ToLower(fmt.Sprintf("%x", appRandom(9)))
	}
	db, err := store.Open(e.ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(e.ctx); err != nil {
		return err
	}
	svc := tenant.NewService(db)
	t, err := svc.Create(e.ctx, tenant.Tenant{Slug: slug, Name: name, Timezone: tz, Locale: locale})
	if err != nil {
		return err
	}
	if _, err := svc.AddStaff(e.ctx, tenant.Staff{TenantID: t.ID, Email: email, Name: ownerName, Role: tenant.Owner}, password); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "brand %q created (id %d); owner %s\n", t.Slug, t.ID, email)
	if generated {
		fmt.Fprintf(e.stdout, "generated password (shown once): %s\n", password)
	}
	return nil
}

func envValue(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func printConfig(e env, args []string) error {
	fmt.Fprint(e.stdout, config.Sample())
	return nil
}

func printVersion(e env, args []string) error {
	fmt.Fprintln(e.stdout, "liveloop", version())
	return nil
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return "devel-" + rev
		}
	}
	return "devel"
}
