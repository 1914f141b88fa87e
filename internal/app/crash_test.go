package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/campaign"
	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/tenant"
)

// TestCampaignSurvivesKill9 is the campaign engine's crash test: a
// broadcast of 10,000 private messages (5 steps × 2,000 members) runs in a
// real `liveloop serve` process that is killed with SIGKILL at random
// moments ten times and restarted; in the end every message has been
// delivered on the web community exactly once — counted by idempotency
// key in what members received.
func TestCampaignSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the liveloop binary")
	}
	const members, steps = 2000, 5
	dir := t.TempDir()
	bin := filepath.Join(dir, "liveloop")
	build := exec.Command("go", "build", "-o", bin, "github.com/liveloop/liveloop/cmd/liveloop")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbPath := filepath.Join(dir, "crash.db")
	tenantID := seedBroadcast(t, dbPath, members, steps)

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill moments from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	delivered := func() (n, distinct int) {
		err := db.R.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT source_id) FROM events
			WHERE tenant_id = $1 AND type = 'direct_message' AND source = 'outbox'`, tenantID).Scan(&n, &distinct)
		if err != nil {
			t.Fatal(err)
		}
		return n, distinct
	}
	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--db", dbPath, "-addr", "127.0.0.1:0", "-base-url", "http://127.0.0.1", "-log-level", "error")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for i := range 10 {
		cmd := serve()
		wait := time.Duration(300+rng.IntN(900)) * time.Millisecond
		time.Sleep(wait)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		n, _ := delivered()
		t.Logf("kill %d after %s: %d of %d delivered", i+1, wait, n, members*steps)
	}

	cmd := serve()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var open int
		err := db.R.QueryRow(`SELECT (SELECT COUNT(*) FROM campaign_jobs WHERE tenant_id = $1 AND state IN ('pending','running'))
			+ (SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND state IN ('pending','sending'))`, tenantID).Scan(&open)
		if err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := delivered()
			t.Fatalf("still %d jobs/messages open after 5 minutes (%d delivered)", open, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	n, distinct := delivered()
	if n != members*steps || distinct != members*steps {
		t.Fatalf("delivered %d messages (%d distinct keys), want exactly %d", n, distinct, members*steps)
	}
	var rows, sent int
	if err := db.R.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) FROM outbox WHERE tenant_id = $1`,
		tenantID).Scan(&rows, &sent); err != nil {
		t.Fatal(err)
	}
	if rows != members*steps || sent != rows {
		t.Fatalf("outbox: %d rows, %d sent; want %d, all sent", rows, sent, members*steps)
	}
	var perMember int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM (SELECT member_id FROM events WHERE tenant_id = $1 AND type = 'direct_message'
		AND source = 'outbox' GROUP BY member_id HAVING COUNT(*) <> $2) x`, tenantID, steps).Scan(&perMember); err != nil {
		t.Fatal(err)
	}
	if perMember != 0 {
		t.Fatalf("%d members did not get exactly %d messages", perMember, steps)
	}
}

// seedBroadcast makes a brand with members in one web group and a playbook
// of steps, each a private message to every member of the group, all due
// now; it returns the tenant.
func seedBroadcast(t *testing.T, path string, members, steps int) int64 {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := event.NewLog(db, event.NewLocalBus())
	tn, err := tenant.NewService(db).Create(ctx, tenant.Tenant{Slug: "crash", Name: "Crash test", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	cs, ms := community.NewService(db, log), member.NewService(db, log)
	g, _, err := cs.CreateGroup(ctx, community.Group{TenantID: tn.ID, Channel: "web", Name: "fans", Kind: community.Vertical, Capacity: members + 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range members {
		m, err := ms.Create(ctx, member.Member{TenantID: tn.ID, DisplayName: fmt.Sprint("fan ", i)},
			member.Identity{Channel: "web", ExternalID: fmt.Sprint("fan-", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Join(ctx, community.JoinRequest{TenantID: tn.ID, GroupID: g.ID, MemberID: m.ID, Source: "web"}); err != nil {
			t.Fatal(err)
		}
	}
	svc := campaign.New(db, nil)
	// Quiet hours off: the test runs at any hour.
	if err := svc.SetPolicy(ctx, tn.ID, campaign.Policy{QuietStart: "00:00", QuietEnd: "00:00", SalesCap: 3, CapWindow: 7 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	p := campaign.Playbook{TenantID: tn.ID, Name: "broadcast", Kind: campaign.KindCustom, Anchor: campaign.AnchorDate,
		AnchorAt: time.Now().Add(-time.Minute), Active: true}
	for i := range steps {
		c, err := svc.CreateContent(ctx, campaign.Content{TenantID: tn.ID, Title: fmt.Sprint("tip ", i), Type: campaign.TypeKnowledge,
			Format: campaign.FormatText, Variants: map[string]string{"zh-CN": fmt.Sprintf("{name}，第 %d 条干货", i+1)}})
		if err != nil {
			t.Fatal(err)
		}
		p.Steps = append(p.Steps, campaign.Step{Position: i, Minutes: -i, ContentID: c.ID,
			Target: campaign.Target{Kind: campaign.TargetDM, Segment: campaign.Segment{GroupID: g.ID}}})
	}
	p, err = svc.SavePlaybook(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Arm(ctx, tn.ID, p.ID); err != nil || n != steps {
		t.Fatalf("armed %d jobs (%v), want %d", n, err, steps)
	}
	return tn.ID
}
