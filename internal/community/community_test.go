package community_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

type fixture struct {
	db      *store.DB
	log     *event.Log
	s       *community.Service
	members *member.Service
	a, b    int64 // tenants
}

func setup(t *testing.T, db *store.DB) fixture {
	t.Helper()
	f := fixture{db: db, log: event.NewLog(db, event.NewLocalBus())}
	f.s = community.NewService(db, f.log)
	f.members = member.NewService(db, f.log)
	for slug, p := range map[string]*int64{"brand-a": &f.a, "brand-b": &f.b} {
		if err := db.W.QueryRow(`INSERT INTO tenants (slug, name, created_at) VALUES ($1, 'x', 1) RETURNING id`, slug).Scan(p); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f fixture) member(t *testing.T, tenant int64, name string) int64 {
	t.Helper()
	m, err := f.members.Create(context.Background(), member.Member{TenantID: tenant, DisplayName: name},
		member.Identity{Channel: "web", ExternalID: name})
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func (f fixture) group(t *testing.T, tenant int64, name string, capacity int) (community.Group, community.JoinCode) {
	t.Helper()
	g, jc, err := f.s.CreateGroup(context.Background(), community.Group{TenantID: tenant, Channel: "web", Name: name,
		Kind: community.Vertical, Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	return g, jc
}

func (f fixture) count(t *testing.T, tenant int64, typ event.Type) int64 {
	t.Helper()
	n, err := f.log.Count(context.Background(), tenant, typ)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestValidateGroup(t *testing.T) {
	t.Parallel()
	ok := community.Group{Name: " 护肤 \n 交流群 ", Kind: community.Booster, Channel: "web", Rules: "no ads\x00\r\nbe kind"}
	if err := community.Validate(&ok); err != nil {
		t.Fatal(err)
	}
	if ok.Name != "护肤   交流群" || ok.Capacity != 500 || ok.Rules != "no ads\nbe kind" {
		t.Fatalf("normalised to %+v", ok)
	}
	for _, g := range []community.Group{
		{Name: "", Kind: community.Vertical, Channel: "web"},
		{Name: strings.Repeat("群", community.MaxGroupName+1), Kind: community.Vertical, Channel: "web"},
		{Name: "x", Kind: "party", Channel: "web"},
		{Name: "x", Kind: community.Vertical, Channel: ""},
		{Name: "x", Kind: community.Vertical, Channel: "web", Capacity: -1},
		{Name: "x", Kind: community.Vertical, Channel: "web", Capacity: community.MaxCapacity + 1},
		{Name: "x", Kind: community.Vertical, Channel: "web", Promise: strings.Repeat("p", community.MaxPositioning+1)},
	} {
		if err := community.Validate(&g); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid", g, err)
		}
	}
}

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		g, jc, err := f.s.CreateGroup(ctx, community.Group{TenantID: f.a, Channel: "web", Name: "护肤交流群", Kind: community.Vertical,
			Audience: "25–35 岁", Promise: "每周干货", Tone: "姐妹", Rules: "不发广告"})
		if err != nil {
			t.Fatal(err)
		}
		if g.ID == 0 || g.Capacity != 500 || jc.ID == 0 || jc.GroupID != g.ID || jc.TenantID != f.a || jc.Source != "default" {
			t.Fatalf("CreateGroup = %+v, %+v", g, jc)
		}
		if len(jc.Code) != 10 || strings.ContainsAny(jc.Code, "01lIO") {
			t.Fatalf("join code %q: want 10 characters without look-alikes", jc.Code)
		}
		got, err := f.s.Group(ctx, f.a, g.ID)
		if err != nil || got.Name != "护肤交流群" || got.Audience != "25–35 岁" || got.Promise != "每周干货" || got.Tone != "姐妹" ||
			got.Rules != "不发广告" || got.Kind != community.Vertical || got.MemberCount != 0 || !got.ArchivedAt.IsZero() ||
			!got.CreatedAt.Equal(g.CreatedAt.Truncate(time.Millisecond)) {
			t.Fatalf("Group = %+v, %v", got, err)
		}
		codes, err := f.s.JoinCodes(ctx, f.a, g.ID)
		if err != nil || len(codes) != 1 || codes[0].Code != jc.Code {
			t.Fatalf("JoinCodes = %+v, %v", codes, err)
		}
		resolved, err := f.s.ResolveJoinCode(ctx, jc.Code)
		if err != nil || resolved.ID != jc.ID || resolved.GroupID != g.ID || resolved.TenantID != f.a {
			t.Fatalf("ResolveJoinCode = %+v, %v", resolved, err)
		}

		g2, _ := f.group(t, f.a, "VIP", 50)
		g2.Name, g2.Capacity, g2.Kind = "VIP 群", 80, community.VIP
		if err := f.s.UpdateGroup(ctx, g2); err != nil {
			t.Fatal(err)
		}
		all, err := f.s.Groups(ctx, f.a)
		if err != nil || len(all) != 2 || all[0].ID != g.ID || all[1].Name != "VIP 群" || all[1].Capacity != 80 || all[1].Kind != community.VIP {
			t.Fatalf("Groups = %+v, %v", all, err)
		}
		if _, _, err := f.s.CreateGroup(ctx, community.Group{TenantID: f.a, Channel: "web", Name: "", Kind: community.Vertical}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("invalid group: %v", err)
		}
		if all, _ := f.s.Groups(ctx, f.a); len(all) != 2 {
			t.Fatal("an invalid group was stored")
		}
	})
}

func TestJoinCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		g, def := f.group(t, f.a, "G", 0)
		for _, code := range []string{"", "nope", strings.Repeat("a", 41), def.Code + "x", strings.ToLower(def.Code) + "Z"} {
			if _, err := f.s.ResolveJoinCode(ctx, code); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ResolveJoinCode(%q) = %v, want ErrNotFound", code, err)
			}
		}
		expired, err := f.s.NewJoinCode(ctx, community.JoinCode{TenantID: f.a, GroupID: g.ID, Source: "live 11-20", ExpiresAt: time.Now().Add(-time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ResolveJoinCode(ctx, expired.Code); !errors.Is(err, community.ErrExpired) {
			t.Errorf("expired code: %v, want ErrExpired", err)
		}
		future, err := f.s.NewJoinCode(ctx, community.JoinCode{TenantID: f.a, GroupID: g.ID, Source: "poster", ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.s.ResolveJoinCode(ctx, future.Code); err != nil || got.Source != "poster" || got.ExpiresAt.IsZero() {
			t.Errorf("code expiring later: %+v, %v", got, err)
		}
		if err := f.s.DisableJoinCode(ctx, f.a, future.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ResolveJoinCode(ctx, future.Code); !errors.Is(err, community.ErrExpired) {
			t.Errorf("disabled code: %v, want ErrExpired", err)
		}
		if err := f.s.DisableJoinCode(ctx, f.a, future.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("disabling twice: %v, want ErrNotFound", err)
		}
		if err := f.s.DisableJoinCode(ctx, f.b, def.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B disabling A's code: %v, want ErrNotFound", err)
		}
		if _, err := f.s.ResolveJoinCode(ctx, def.Code); err != nil {
			t.Errorf("B's refused disable changed A's code: %v", err)
		}
		if _, err := f.s.NewJoinCode(ctx, community.JoinCode{TenantID: f.b, GroupID: g.ID}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B adding a code to A's group: %v, want ErrNotFound", err)
		}
		if _, err := f.s.NewJoinCode(ctx, community.JoinCode{TenantID: f.a, GroupID: g.ID, Source: strings.Repeat("s", 61)}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("long source: %v, want ErrInvalid", err)
		}
		if codes, _ := f.s.JoinCodes(ctx, f.a, g.ID); len(codes) != 3 {
			t.Errorf("%d codes, want 3", len(codes))
		}
		if codes, _ := f.s.JoinCodes(ctx, f.b, g.ID); len(codes) != 0 {
			t.Errorf("B lists A's codes: %+v", codes)
		}
	})
}

func TestJoinLeaveRemove(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		g, jc := f.group(t, f.a, "G", 0)
		ann, bob := f.member(t, f.a, "ann"), f.member(t, f.a, "bob")
		base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		req := community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: ann, JoinCode: jc, Source: event.SourceWeb, At: base}

		if joined, err := f.s.Join(ctx, req); err != nil || !joined {
			t.Fatalf("Join = %v, %v", joined, err)
		}
		req.At = base.Add(time.Second)
		if joined, err := f.s.Join(ctx, req); err != nil || joined {
			t.Fatalf("joining again = %v, %v; want false, nil", joined, err)
		}
		if n := f.count(t, f.a, event.MemberJoined); n != 1 {
			t.Fatalf("%d member_joined events, want 1", n)
		}
		evs, _ := f.log.MemberTimeline(ctx, f.a, []int64{ann}, 10)
		var jd event.JoinData
		if len(evs) != 1 || evs[0].GroupID != g.ID || evs[0].Decode(&jd) != nil || jd.JoinCode != jc.Code || jd.Source != "default" {
			t.Fatalf("join event %+v, data %+v", evs, jd)
		}
		m, err := f.s.Membership(ctx, f.a, g.ID, ann)
		if err != nil || !m.Active() || m.JoinCodeID != jc.ID || m.DisplayName != "ann" || !m.JoinedAt.Equal(base) {
			t.Fatalf("Membership = %+v, %v", m, err)
		}

		if err := f.s.Leave(ctx, f.a, g.ID, ann, event.SourceWeb); err != nil {
			t.Fatal(err)
		}
		if in, _ := f.s.IsMember(ctx, f.a, g.ID, ann); in {
			t.Fatal("still a member after leaving")
		}
		if err := f.s.Leave(ctx, f.a, g.ID, ann, event.SourceWeb); !errors.Is(err, community.ErrNotIn) {
			t.Fatalf("leaving twice: %v, want ErrNotIn", err)
		}
		req.At = base.Add(2 * time.Second)
		if joined, err := f.s.Join(ctx, req); err != nil || !joined {
			t.Fatalf("rejoin = %v, %v", joined, err)
		}
		if m, _ := f.s.Membership(ctx, f.a, g.ID, ann); !m.Active() || !m.JoinedAt.Equal(req.At) {
			t.Fatalf("after rejoin: %+v", m)
		}
		if f.count(t, f.a, event.MemberJoined) != 2 || f.count(t, f.a, event.MemberLeft) != 1 {
			t.Fatal("want 2 joins and 1 leave in the log")
		}

		if _, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: bob, Source: event.SourceConsole}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Remove(ctx, f.a, g.ID, bob, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: bob, JoinCode: jc, Source: event.SourceWeb}); !errors.Is(err, community.ErrRemoved) {
			t.Fatalf("removed member joining: %v, want ErrRemoved", err)
		}
		if err := f.s.Remove(ctx, f.a, g.ID, bob, 0); !errors.Is(err, community.ErrNotIn) {
			t.Fatalf("removing twice: %v, want ErrNotIn", err)
		}
		if m, _ := f.s.Membership(ctx, f.a, g.ID, bob); m.Active() || m.RemovedAt.IsZero() {
			t.Fatalf("removed membership: %+v", m)
		}
		if f.count(t, f.a, event.MemberRemoved) != 1 || f.count(t, f.a, event.MemberJoined) != 3 {
			t.Fatal("want 1 removal and 3 joins in the log")
		}
		ms, err := f.s.Members(ctx, f.a, g.ID, 10, 0)
		if err != nil || len(ms) != 1 || ms[0].MemberID != ann {
			t.Fatalf("Members = %+v, %v", ms, err)
		}
		if groups, _ := f.s.MemberGroups(ctx, f.a, bob); len(groups) != 1 || groups[0].RemovedAt.IsZero() {
			t.Fatalf("MemberGroups(bob) = %+v", groups)
		}
		if _, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: 424242, MemberID: ann, Source: "web"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("joining an unknown group: %v", err)
		}
		if _, err := f.s.Membership(ctx, f.a, g.ID, 424242); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Membership of a stranger: %v", err)
		}
	})
}

func TestCapacity(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		g, _ := f.group(t, f.a, "small", 3)
		var ms []int64
		for i := range 5 {
			ms = append(ms, f.member(t, f.a, fmt.Sprint("m", i)))
		}
		join := func(m int64) error {
			_, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: m, Source: "web"})
			return err
		}
		for _, m := range ms[:3] {
			if err := join(m); err != nil {
				t.Fatal(err)
			}
		}
		if err := join(ms[3]); !errors.Is(err, community.ErrFull) {
			t.Fatalf("fourth join: %v, want ErrFull", err)
		}
		if in, _ := f.s.IsMember(ctx, f.a, g.ID, ms[3]); in {
			t.Fatal("a refused join was stored")
		}
		if err := join(ms[0]); err != nil {
			t.Fatalf("a member already in a full group joining again: %v", err)
		}
		if err := f.s.Leave(ctx, f.a, g.ID, ms[1], "web"); err != nil {
			t.Fatal(err)
		}
		if err := join(ms[3]); err != nil {
			t.Fatalf("join after someone left: %v", err)
		}
		if err := join(ms[1]); !errors.Is(err, community.ErrFull) {
			t.Fatalf("rejoin into a full group: %v, want ErrFull", err)
		}
		if got, _ := f.s.Group(ctx, f.a, g.ID); got.MemberCount != 3 {
			t.Fatalf("MemberCount = %d, want 3", got.MemberCount)
		}
		if n := f.count(t, f.a, event.MemberJoined); n != 4 {
			t.Fatalf("%d member_joined events, want 4", n)
		}
	})
}

// A live sends a crowd through one join link at once: a group of 10 admits
// exactly 10 of 40 racing joiners.
func TestCapacityUnderConcurrentJoins(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		for round := range 3 {
			g, jc := f.group(t, f.a, fmt.Sprint("live ", round), 10)
			var ms []int64
			for i := range 40 {
				ms = append(ms, f.member(t, f.a, fmt.Sprintf("r%d-%d", round, i)))
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			joined, full := 0, 0
			var others []error
			for _, m := range ms {
				wg.Go(func() {
					ok, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: m, JoinCode: jc, Source: "web"})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil && ok:
						joined++
					case errors.Is(err, community.ErrFull):
						full++
					default:
						others = append(others, fmt.Errorf("join = %v, %v", ok, err))
					}
				})
			}
			wg.Wait()
			if len(others) > 0 {
				t.Fatalf("round %d: %d unexpected results, first %v", round, len(others), others[0])
			}
			got, _ := f.s.Group(ctx, f.a, g.ID)
			members, _ := f.s.Members(ctx, f.a, g.ID, 100, 0)
			if joined != 10 || full != 30 || got.MemberCount != 10 || len(members) != 10 {
				t.Fatalf("round %d: %d joined, %d full, %d members stored (%d listed); want 10, 30, 10",
					round, joined, full, got.MemberCount, len(members))
			}
		}
		if n := f.count(t, f.a, event.MemberJoined); n != 30 {
			t.Fatalf("%d member_joined events, want 30", n)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		g, jc := f.group(t, f.a, "A's group", 0)
		annA, bobB := f.member(t, f.a, "ann"), f.member(t, f.b, "bob")
		if _, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: annA, JoinCode: jc, Source: "web"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Group(ctx, f.b, g.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reads A's group: %v", err)
		}
		if gs, err := f.s.Groups(ctx, f.b); err != nil || len(gs) != 0 {
			t.Errorf("B lists %d groups, %v", len(gs), err)
		}
		if ms, err := f.s.Members(ctx, f.b, g.ID, 100, 0); err != nil || len(ms) != 0 {
			t.Errorf("B lists %d members of A's group, %v", len(ms), err)
		}
		if in, _ := f.s.IsMember(ctx, f.b, g.ID, annA); in {
			t.Error("B sees A's membership")
		}
		if _, err := f.s.Membership(ctx, f.b, g.ID, annA); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reads A's membership: %v", err)
		}
		if gs, _ := f.s.MemberGroups(ctx, f.b, annA); len(gs) != 0 {
			t.Errorf("B reads A's member's groups: %+v", gs)
		}
		if err := f.s.UpdateGroup(ctx, community.Group{TenantID: f.b, ID: g.ID, Name: "hijacked", Kind: community.Vertical, Channel: "web"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B renames A's group: %v", err)
		}
		if _, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.b, GroupID: g.ID, MemberID: bobB, Source: "web"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B's member joins A's group through B: %v, want ErrNotFound", err)
		}
		if _, err := f.s.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: bobB, Source: "web"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B's member joins A's group through A: %v, want ErrNotFound", err)
		}
		if err := f.s.Leave(ctx, f.b, g.ID, annA, "web"); !errors.Is(err, community.ErrNotIn) {
			t.Errorf("B makes A's member leave: %v, want ErrNotIn", err)
		}
		if err := f.s.Remove(ctx, f.b, g.ID, annA, 0); !errors.Is(err, community.ErrNotIn) {
			t.Errorf("B removes A's member: %v, want ErrNotIn", err)
		}
		got, _ := f.s.Group(ctx, f.a, g.ID)
		ms, _ := f.s.Members(ctx, f.a, g.ID, 100, 0)
		var ids []int64
		for _, m := range ms {
			ids = append(ids, m.MemberID)
		}
		if got.Name != "A's group" || got.MemberCount != 1 || !slices.Equal(ids, []int64{annA}) {
			t.Errorf("A's group after B's attempts: %+v, members %v", got, ids)
		}
	})
}
