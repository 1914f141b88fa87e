package runner_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/bot"
	"github.com/liveloop/liveloop/internal/bot/runner"
	"github.com/liveloop/liveloop/internal/channel"
	"github.com/liveloop/liveloop/internal/channel/webchat"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/i18n"
	"github.com/liveloop/liveloop/internal/loyalty"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/outbox"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

type rig struct {
	db      *store.DB
	log     *event.Log
	r       *runner.Runner
	logs    *logBuffer // what the runner logged
	tenant  int64
	group   int64
	members []int64
}

// logBuffer collects log lines; the runner logs from one goroutine, the
// test reads after it returned, but the race detector deserves a lock.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newRig builds a brand with one group, n members in it, and the rules
// given (plus an assistant persona they speak as).
func newRig(t testing.TB, db *store.DB, n int, rules func(persona int64) []bot.Rule) rig {
	ctx := context.Background()
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "rig", Name: "rig", Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	cs := community.NewService(db, log)
	g, _, err := cs.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: webchat.Name, Name: "g", Kind: community.Vertical, Capacity: 100000})
	if err != nil {
		t.Fatal(err)
	}
	st := runner.NewStore(db)
	p, err := st.SavePersona(ctx, tn.ID, bot.Persona{Name: "助理", Role: bot.RoleAssistant})
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range rules(p.ID) {
		if _, err := st.SaveRule(ctx, tn.ID, rule); err != nil {
			t.Fatal(err)
		}
	}
	ms := member.NewService(db, log)
	rg := rig{db: db, log: log, tenant: tn.ID, group: g.ID}
	for i := range n {
		m, err := ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: fmt.Sprintf("m%d", i)}, member.Identity{Channel: "web", ExternalID: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: g.ID, MemberID: m.ID, Source: "import", SourceID: fmt.Sprint("j", i)}); err != nil {
			t.Fatal(err)
		}
		rg.members = append(rg.members, m.ID)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ob := outbox.New(db, channel.NewRegistry(webchat.New(log)), quiet)
	rg.logs = &logBuffer{}
	rg.r = runner.New(runner.Deps{DB: db, Log: log, Store: st, Tenants: tenant.NewService(db), Members: ms, Community: cs,
		Loyalty: loyalty.NewService(db, log), Outbox: ob, Catalog: i18n.MustLoad(), Logger: slog.New(slog.NewTextHandler(rg.logs, nil))})
	if err := rg.r.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return rg
}

func (rg rig) say(t testing.TB, member int64, n int, text string) {
	if _, err := rg.log.Append(context.Background(), &event.Event{TenantID: rg.tenant, Type: event.Message, Source: event.SourceWeb,
		SourceID: fmt.Sprintf("m%d:%d", member, n), MemberID: member, GroupID: rg.group,
		Data: event.MustData(event.MessageData{Text: text, SenderName: "m"})}); err != nil {
		t.Fatal(err)
	}
}

func (rg rig) drain(t testing.TB) int {
	total := 0
	for {
		n, err := rg.r.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n == 0 {
			return total
		}
	}
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	var n int
	if err := db.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func checkInRules(p int64) []bot.Rule {
	return []bot.Rule{
		{Kind: bot.KindCheckIn, PersonaID: p, Enabled: true, CheckIn: &bot.CheckInConfig{Question: "q", Answers: []string{"rose"},
			Hint: "h", WindowStart: "00:00", WindowEnd: "24:00", Points: 5}},
		{Kind: bot.KindDiscussion, PersonaID: p, Enabled: true, Discussion: &bot.DiscussionConfig{PointsPerMessage: 1, DailyCap: 3, MinRunes: 2}},
	}
}

// Each event is acted on once; replaying the log from an earlier cursor
// (as after a crash between the actions and a lost cursor write) stores
// no second reply, award or check-in: every effect has its own key.
func TestExactlyOnceAcrossReplays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		rg := newRig(t, db, 2, checkInRules)
		m := rg.members[0]
		rg.say(t, m, 1, "rose")
		rg.say(t, m, 2, "hello there")
		rg.say(t, m, 3, "积分")
		if n := rg.drain(t); n != 3 {
			t.Fatalf("processed %d events, want 3", n)
		}
		snapshot := func() [3]int {
			return [3]int{
				count(t, db, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1`, rg.tenant),
				count(t, db, `SELECT COUNT(*) FROM points_ledger WHERE tenant_id = $1`, rg.tenant),
				count(t, db, `SELECT COUNT(*) FROM checkins WHERE tenant_id = $1`, rg.tenant),
			}
		}
		first := snapshot()
		if first != [3]int{2, 2, 1} { // check-in reply + points reply; checkin + discussion entries; one check-in
			t.Fatalf("after one pass: outbox, ledger, checkins = %v", first)
		}
		if n := rg.drain(t); n != 0 {
			t.Fatalf("a second pass read %d events", n)
		}
		if _, err := db.W.Exec(`UPDATE bot_cursor SET last_event_id = 0`); err != nil {
			t.Fatal(err)
		}
		rg.drain(t)
		if again := snapshot(); again != first {
			t.Fatalf("replay changed state: %v → %v", first, again)
		}
	})
}

// BenchmarkRunner measures the whole engine: events appended to the log,
// read by the runner, evaluated against 50 rules per group, and their
// actions (outbox rows, ledger entries) committed with the cursor.
func BenchmarkRunner(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			rg := newRig(b, db, 200, fiftyRules)
			texts := []string{"今天的直播几点开始", "请问敏感肌可以用吗", "哈哈哈", "发货了吗", "rose", "积分", "这个颜色好好看", "心愿 粉底液"}
			b.ResetTimer()
			b.StopTimer()
			evs := make([]event.Event, b.N)
			for i := range evs {
				m := rg.members[i%len(rg.members)]
				evs[i] = event.Event{TenantID: rg.tenant, Type: event.Message, Source: event.SourceWeb, SourceID: fmt.Sprintf("b%d", i),
					MemberID: m, GroupID: rg.group, At: time.Now(), Data: event.MustData(event.MessageData{Text: texts[i%len(texts)], SenderName: "m"})}
			}
			if _, err := rg.log.AppendBatch(context.Background(), evs); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			if n := rg.drain(b); n != b.N {
				b.Fatalf("processed %d of %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// fiftyRules is a realistic busy group: check-in, discussion points,
// moderation, wishlist, welcome and 45 keyword rules of all three modes.
func fiftyRules(p int64) []bot.Rule {
	rules := append(checkInRules(p),
		bot.Rule{Kind: bot.KindModeration, PersonaID: p, Enabled: true, Moderation: &bot.ModerationConfig{NewMemberLinkHours: 0,
			FloodCount: 50, FloodSeconds: 10, BannedWords: []string{"代购", "加微信", "刷单"}, MuteMinutes: 30, WarnsBeforeMute: 2, WarnDecayHours: 24}},
		bot.Rule{Kind: bot.KindWishlist, PersonaID: p, Enabled: true, Wishlist: &bot.WishlistConfig{Keywords: []string{"心愿", "wish"}}},
		bot.Rule{Kind: bot.KindWelcome, PersonaID: p, Enabled: true, Welcome: &bot.WelcomeConfig{Template: "欢迎 {names}"}},
	)
	for i := range 45 {
		kw := bot.KeywordConfig{Reply: "回复 {name}", CooldownSeconds: 30}
		switch i % 3 {
		case 0:
			kw.Mode, kw.Pattern = bot.MatchExact, fmt.Sprintf("口令%d", i)
		case 1:
			kw.Mode, kw.Pattern = bot.MatchContains, fmt.Sprintf("关键词%d", i)
		default:
			kw.Mode, kw.Pattern = bot.MatchPattern, fmt.Sprintf(`(产品|商品)%d号`, i)
		}
		rules = append(rules, bot.Rule{Kind: bot.KindKeyword, PersonaID: p, Enabled: true, Keyword: &kw})
	}
	return rules
}

// Similar wishes group on the demand board, and a group's status is its
// most advanced one: a new open wish does not hide that it was fulfilled.
func TestDemandBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		rg := newRig(t, db, 3, checkInRules)
		st := runner.NewStore(db)
		add := func(m int64, text string) {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return runner.AddWishTx(ctx, tx, rg.tenant, m, rg.group, 0, text, time.Now())
			}); err != nil {
				t.Fatal(err)
			}
		}
		add(rg.members[0], "求 粉底液！")
		add(rg.members[1], "想要粉底液")
		add(rg.members[2], "口红试色")
		board, err := st.DemandBoard(ctx, rg.tenant, 10)
		if err != nil || len(board) != 2 || board[0].Count != 2 || board[0].Members != 2 || board[0].Status != "open" {
			t.Fatalf("board %+v %v", board, err)
		}
		dms := func() int {
			var n int
			db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND member_id IS NOT NULL AND group_id IS NULL`, rg.tenant).Scan(&n)
			return n
		}
		// Each wisher hears privately, once, however often staff click.
		for range 2 {
			if err := rg.r.SetWishStatus(ctx, rg.tenant, board[0].Norm, "fulfilled"); err != nil {
				t.Fatal(err)
			}
		}
		if n := dms(); n != 2 {
			t.Fatalf("%d private messages, want 2", n)
		}
		add(rg.members[2], "粉底液")
		board, _ = st.DemandBoard(ctx, rg.tenant, 10)
		if board[0].Count != 3 || board[0].Status != "fulfilled" {
			t.Fatalf("after fulfilment and a new wish: %+v", board[0])
		}
		if err := rg.r.SetWishStatus(ctx, rg.tenant, board[0].Norm, "shipped"); err == nil {
			t.Fatal("unknown status accepted")
		}
	})
}

// Wishlist reminders post once per group and slot, only within the hour
// after their time (in the tenant's zone), however often the runner looks.
func TestWishReminders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rg := newRig(t, db, 1, func(p int64) []bot.Rule {
			return []bot.Rule{{Kind: bot.KindWishlist, PersonaID: p, Enabled: true, Wishlist: &bot.WishlistConfig{Reminders: []string{"20:00"}}}}
		})
		tn, err := tenant.NewService(db).Get(ctx, rg.tenant)
		if err != nil {
			t.Fatal(err)
		}
		day := time.Now().In(tn.Location())
		at := func(h, m int) time.Time {
			return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, tn.Location())
		}
		reminders := func() int {
			return count(t, db, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND idem_key LIKE 'wishremind:%'`, rg.tenant)
		}
		for _, c := range []struct {
			at   time.Time
			want int
		}{{at(19, 59), 0}, {at(20, 1), 1}, {at(20, 40), 1}, {at(21, 30), 1}} {
			rg.r.SetNow(func() time.Time { return c.at })
			rg.drain(t)
			// The runner looks at most every 30 s of its clock: move it on.
			rg.r.SetNow(func() time.Time { return c.at.Add(31 * time.Second) })
			rg.drain(t)
			if n := reminders(); n != c.want {
				t.Fatalf("at %s: %d reminders, want %d", c.at.Format("15:04"), n, c.want)
			}
		}
	})
}

var sourceIDs atomic.Int64

// sayAll appends messages (member index, text) as one batch of the log,
// all at the instant at, so two rigs see the very same events.
func (rg rig) sayAll(t testing.TB, at time.Time, msgs ...any) {
	t.Helper()
	var evs []event.Event
	for i := 0; i < len(msgs); i += 2 {
		m := rg.members[msgs[i].(int)]
		evs = append(evs, event.Event{TenantID: rg.tenant, Type: event.Message, Source: event.SourceWeb, SourceID: fmt.Sprintf("s%d", sourceIDs.Add(1)),
			MemberID: m, GroupID: rg.group, At: at, Data: event.MustData(event.MessageData{Text: msgs[i+1].(string), SenderName: "m"})})
	}
	if _, err := rg.log.AppendBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// strings returns the rows of a one-column query, in order.
func column(t testing.TB, db *store.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.R.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// noBatchFailure fails the test if a batch was redone event by event.
func (rg rig) noBatchFailure(t testing.TB) {
	t.Helper()
	if l := rg.logs.String(); strings.Contains(l, "failed") {
		t.Fatalf("the runner logged a failure:\n%s", l)
	}
}

// Later events of a batch see what earlier ones did: the same member's
// second check-in in the batch is told it is done, and discussion points
// stop exactly at the daily cap however many messages the batch holds.
func TestBatchSeesItsOwnEffects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		rg := newRig(t, db, 2, checkInRules) // discussion: 1 point a message, 3 a day
		now := time.Now()
		rg.sayAll(t, now, 0, "rose", 0, "rose", 1, "hello one", 1, "hello two", 1, "hello three", 1, "hello four", 1, "hello five", 0, "积分")
		if n := rg.drain(t); n != 8 {
			t.Fatalf("read %d events, want 8", n)
		}
		rg.noBatchFailure(t)
		if n := count(t, db, `SELECT COUNT(*) FROM checkins WHERE tenant_id = $1`, rg.tenant); n != 1 {
			t.Fatalf("%d check-ins, want 1", n)
		}
		m1 := rg.members[1]
		if n := count(t, db, `SELECT COALESCE(SUM(delta), 0) FROM points_ledger WHERE tenant_id = $1 AND member_id = $2 AND kind = 'discussion'`, rg.tenant, m1); n != 3 {
			t.Fatalf("%d discussion points, want the cap of 3", n)
		}
		got := column(t, db, `SELECT body FROM outbox WHERE tenant_id = $1 ORDER BY id`, rg.tenant)
		want := []string{
			"m0 checked in! Day 1 in a row, +5 points, 5 in total.",
			"m0, you have already checked in today.",
			"m0, you have 5 points.",
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("replies:\n got %q\nwant %q", got, want)
		}
		// A next batch on the same day goes on from where this one left.
		rg.sayAll(t, now, 1, "hello six", 0, "rose")
		rg.drain(t)
		if n := count(t, db, `SELECT COALESCE(SUM(delta), 0) FROM points_ledger WHERE tenant_id = $1 AND member_id = $2 AND kind = 'discussion'`, rg.tenant, m1); n != 3 {
			t.Fatalf("%d discussion points after another batch, want 3", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1`, rg.tenant); n != 4 {
			t.Fatalf("%d replies, want 4", n)
		}
	})
}

// A batch acts exactly as the same events one at a time: warnings that
// escalate to a mute, a muted member hidden, flooding, cooldowns, the cap,
// check-ins, balances and the leaderboard all come out the same.
func TestBatchEqualsOneByOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		rules := func(p int64) []bot.Rule {
			return append(checkInRules(p),
				bot.Rule{Kind: bot.KindModeration, PersonaID: p, Enabled: true, Moderation: &bot.ModerationConfig{FloodCount: 4, FloodSeconds: 10,
					BannedWords: []string{"代购"}, MuteMinutes: 30, WarnsBeforeMute: 1}},
				bot.Rule{Kind: bot.KindKeyword, PersonaID: p, Enabled: true, Keyword: &bot.KeywordConfig{Mode: bot.MatchContains, Pattern: "发货",
					Reply: "{name} 48h", CooldownSeconds: 60}},
				bot.Rule{Kind: bot.KindWishlist, PersonaID: p, Enabled: true, Wishlist: &bot.WishlistConfig{}},
			)
		}
		batched := newRig(t, db, 4, rules)
		single := newRig(t, storetest.Open(t, db.Dialect), 4, rules)
		single.r.Batch = 1
		msgs := []any{
			0, "代购 便宜", 0, "hello there", 0, "代购 again", 0, "still here", // warn, mute, hidden
			1, "rose", 1, "rose", 1, "积分", 1, "排行",
			2, "发货了吗", 3, "什么时候发货", 2, "发货呢",
			3, "a a", 3, "b b", 3, "c c", 3, "d d", 3, "e e", 3, "f f", // discussion cap, then flooding
			2, "心愿 粉底液", 2, "积分", 1, "排行",
		}
		at := time.Now()
		for _, rg := range []rig{batched, single} {
			rg.sayAll(t, at, msgs...)
			rg.drain(t)
			rg.noBatchFailure(t)
		}
		for _, q := range []string{
			`SELECT body FROM outbox WHERE tenant_id = $1 ORDER BY id`,
			`SELECT kind || ' ' || delta || ' ' || balance_after FROM points_ledger WHERE tenant_id = $1 ORDER BY id`,
			`SELECT action || ' ' || reason FROM moderation_actions WHERE tenant_id = $1 ORDER BY id`,
			`SELECT day || ' ' || streak FROM checkins WHERE tenant_id = $1 ORDER BY member_id`,
			`SELECT key FROM bot_cooldowns WHERE tenant_id = $1 ORDER BY key`,
		} {
			b, s := column(t, batched.db, q, batched.tenant), column(t, single.db, q, single.tenant)
			if !reflect.DeepEqual(b, s) {
				t.Errorf("%s\nbatched:    %q\none by one: %q", q, b, s)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM moderation_actions WHERE tenant_id = $1 AND action = 'mute'`, batched.tenant); n == 0 {
			t.Error("the case did not reach a mute: it tests less than it says")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM moderation_actions WHERE tenant_id = $1 AND reason = 'flood'`, batched.tenant); n == 0 {
			t.Error("the case did not flood: it tests less than it says")
		}
	})
}

// An event whose actions fail rolls its batch back; the batch is redone
// one event per transaction, so the others are applied once, the failing
// one is skipped and logged, and the cursor moves past them all.
func TestPoisonEventInBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		rg := newRig(t, db, 3, func(p int64) []bot.Rule {
			return append(checkInRules(p), bot.Rule{Kind: bot.KindWishlist, PersonaID: p, Enabled: true, Wishlist: &bot.WishlistConfig{}})
		})
		// The database refuses one wish: an error the runner cannot foresee.
		poison := []string{`CREATE TRIGGER poison BEFORE INSERT ON wishes WHEN NEW.text LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`}
		if db.Dialect == store.Postgres {
			poison = []string{
				`CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.text LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER poison BEFORE INSERT ON wishes FOR EACH ROW EXECUTE FUNCTION poison()`,
			}
		}
		for _, q := range poison {
			if _, err := db.W.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		rg.sayAll(t, time.Now(), 0, "hello there", 1, "心愿 poison", 2, "rose", 0, "hello again", 1, "心愿 lipstick")
		if n := rg.drain(t); n != 5 {
			t.Fatalf("read %d events, want 5", n)
		}
		logs := rg.logs.String()
		if strings.Count(logs, "batch failed") != 1 || strings.Count(logs, "event failed; skipped") != 1 {
			t.Fatalf("want one failed batch and one skipped event in the log:\n%s", logs)
		}
		if got := column(t, db, `SELECT text FROM wishes WHERE tenant_id = $1`, rg.tenant); !reflect.DeepEqual(got, []string{"lipstick"}) {
			t.Fatalf("wishes %q", got)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM points_ledger WHERE tenant_id = $1 AND kind = 'discussion'`, rg.tenant); n != 2 {
			t.Fatalf("%d discussion entries, want 2", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM checkins WHERE tenant_id = $1`, rg.tenant); n != 1 {
			t.Fatalf("%d check-ins, want 1", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE tenant_id = $1`, rg.tenant); n != 2 { // check-in, lipstick wish
			t.Fatalf("%d replies, want 2", n)
		}
		last := count(t, db, `SELECT MAX(id) FROM events WHERE type = 'message'`)
		if c := count(t, db, `SELECT last_event_id FROM bot_cursor`); c != last {
			t.Fatalf("cursor at %d, want %d (past the batch)", c, last)
		}
		if n := rg.drain(t); n != 0 {
			t.Fatalf("a second pass read %d events", n)
		}
	})
}
