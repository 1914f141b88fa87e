package member_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/liveloop/liveloop/internal/community"
	"github.com/liveloop/liveloop/internal/event"
	"github.com/liveloop/liveloop/internal/member"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

type fixture struct {
	db   *store.DB
	log  *event.Log
	s    *member.Service
	a, b int64 // tenants
}

func setup(t *testing.T, db *store.DB) fixture {
	t.Helper()
	f := fixture{db: db, log: event.NewLog(db, event.NewLocalBus())}
	f.s = member.NewService(db, f.log)
	for slug, p := range map[string]*int64{"brand-a": &f.a, "brand-b": &f.b} {
		if err := db.W.QueryRow(`INSERT INTO tenants (slug, name, created_at) VALUES ($1, 'x', 1) RETURNING id`, slug).Scan(p); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f fixture) create(t *testing.T, tenant int64, name, channel, ext string) member.Member {
	t.Helper()
	m, err := f.s.Create(context.Background(), member.Member{TenantID: tenant, DisplayName: name},
		member.Identity{Channel: channel, ExternalID: ext})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return m
}

func TestCreateAndIdentity(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		m, err := f.s.Create(ctx, member.Member{TenantID: f.a, DisplayName: " 小鹿\x00 ", Email: "Deer@Example.com", Phone: "+86 138-0000-0000"},
			member.Identity{Channel: "telegram", ExternalID: "42", DisplayName: "deer\nbot"})
		if err != nil {
			t.Fatal(err)
		}
		if m.ID == 0 || m.DisplayName != "小鹿" || m.Email != "deer@example.com" {
			t.Fatalf("created %+v", m)
		}
		got, err := f.s.ByIdentity(ctx, f.a, "telegram", "42")
		if err != nil || got.ID != m.ID || got.DisplayName != "小鹿" || got.Phone != "+86 138-0000-0000" || got.TenantID != f.a {
			t.Fatalf("ByIdentity = %+v, %v", got, err)
		}
		ids, err := f.s.Identities(ctx, f.a, m.ID)
		if err != nil || len(ids) != 1 || ids[0].Channel != "telegram" || ids[0].ExternalID != "42" || ids[0].DisplayName != "deer bot" {
			t.Fatalf("Identities = %+v, %v", ids, err)
		}

		// The identity belongs to someone already: nothing is created.
		_, err = f.s.Create(ctx, member.Member{TenantID: f.a, DisplayName: "Impostor"}, member.Identity{Channel: "telegram", ExternalID: "42"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate identity: %v, want ErrConflict", err)
		}
		if p, _ := f.s.List(ctx, f.a, "", 10, 0); p.Total != 1 {
			t.Fatalf("%d members after the refused create, want 1 (no orphan)", p.Total)
		}
		// The same platform id in another tenant, or on another channel, is another person.
		if _, err := f.s.Create(ctx, member.Member{TenantID: f.b, DisplayName: "B's"}, member.Identity{Channel: "telegram", ExternalID: "42"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Create(ctx, member.Member{TenantID: f.a, DisplayName: "LINE"}, member.Identity{Channel: "line", ExternalID: "42"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.ByIdentity(ctx, f.b, "telegram", "42"); got.ID == m.ID || got.DisplayName != "B's" {
			t.Fatalf("B's ByIdentity returned %+v", got)
		}

		for _, c := range []struct {
			m  member.Member
			id member.Identity
		}{
			{member.Member{TenantID: f.a, DisplayName: ""}, member.Identity{Channel: "web", ExternalID: "x"}},
			{member.Member{TenantID: f.a, DisplayName: "ok"}, member.Identity{Channel: "", ExternalID: "x"}},
			{member.Member{TenantID: f.a, DisplayName: "ok"}, member.Identity{Channel: "web", ExternalID: ""}},
		} {
			if _, err := f.s.Create(ctx, c.m, c.id); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Create(%+v, %+v) = %v, want ErrInvalid", c.m, c.id, err)
			}
		}
		if _, err := f.s.ByIdentity(ctx, f.a, "telegram", "43"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown identity: %v", err)
		}
		if _, err := f.s.Get(ctx, f.b, m.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("A's member read with B's id: %v", err)
		}
		if ids, _ := f.s.Identities(ctx, f.b, m.ID); len(ids) != 0 {
			t.Fatalf("A's identities read with B's id: %+v", ids)
		}
	})
}

func TestValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("长", member.MaxNameLen)
	for _, c := range []struct {
		in      member.Member
		ok      bool
		name    string
		email   string
		comment string
	}{
		{member.Member{DisplayName: "Ann"}, true, "Ann", "", ""},
		{member.Member{DisplayName: " Ann\n\tLee\x00 "}, true, "Ann  Lee", "", "cleaned to one line"},
		{member.Member{DisplayName: long}, true, long, "", "40 characters, 120 bytes"},
		{member.Member{DisplayName: long + "x"}, false, "", "", "41 characters"},
		{member.Member{DisplayName: " \x00 "}, false, "", "", "blank"},
		{member.Member{DisplayName: "a", Phone: "+886 (2) 1234-5678"}, true, "a", "", ""},
		{member.Member{DisplayName: "a", Phone: "call me"}, false, "", "", ""},
		{member.Member{DisplayName: "a", Phone: strings.Repeat("1", member.MaxPhoneLen+1)}, false, "", "", ""},
		{member.Member{DisplayName: "a", Email: " A@B.Example "}, true, "a", "a@b.example", ""},
		{member.Member{DisplayName: "a", Email: "nope"}, false, "", "", ""},
		{member.Member{DisplayName: "a", Email: strings.Repeat("x", member.MaxEmailLen) + "@y"}, false, "", "", ""},
	} {
		m := c.in
		err := member.Validate(&m)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, store.ErrInvalid)) {
			t.Errorf("Validate(%+v) = %v; want ok %v (%s)", c.in, err, c.ok, c.comment)
			continue
		}
		if c.ok && (m.DisplayName != c.name || m.Email != c.email) {
			t.Errorf("Validate(%+v) normalised to %q, %q; want %q, %q", c.in, m.DisplayName, m.Email, c.name, c.email)
		}
	}
}

func TestListSearch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		names := []string{"Alice Wong", "bob_smith", "100% fan", "Carol", "bobXsmith", "1000 fans", `back\slash`}
		for i, n := range names {
			f.create(t, f.a, n, "web", fmt.Sprint("w", i))
		}
		carol, _ := f.s.ByIdentity(ctx, f.a, "web", "w3")
		carol.Phone, carol.Email = "+86 138 0000", "carol@shop.example"
		if err := f.s.UpdateContact(ctx, carol); err != nil {
			t.Fatal(err)
		}
		f.create(t, f.b, "Alice of B", "web", "w0")

		search := func(q string) []string {
			p, err := f.s.List(ctx, f.a, q, 100, 0)
			if err != nil {
				t.Fatalf("List(%q): %v", q, err)
			}
			if p.Total != len(p.Members) {
				t.Errorf("List(%q): total %d, %d members", q, p.Total, len(p.Members))
			}
			var out []string
			for _, m := range p.Members {
				if m.TenantID != f.a {
					t.Errorf("List(%q) returned tenant %d's member", q, m.TenantID)
				}
				out = append(out, m.DisplayName)
			}
			return out
		}
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"", []string{`back\slash`, "1000 fans", "bobXsmith", "Carol", "100% fan", "bob_smith", "Alice Wong"}},
			{"%", []string{"100% fan"}},
			{"0%", []string{"100% fan"}},
			{"_", []string{"bob_smith"}},
			{"b_s", []string{"bob_smith"}},
			{`\`, []string{`back\slash`}},
			{`k\s`, []string{`back\slash`}},
			{"ALICE", []string{"Alice Wong"}},
			{"  wong\n", []string{"Alice Wong"}},
			{"138 0", []string{"Carol"}},
			{"SHOP.example", []string{"Carol"}},
			{"zzz", nil},
		} {
			if got := search(c.q); !slices.Equal(got, c.want) {
				t.Errorf("List(%q) = %q, want %q", c.q, got, c.want)
			}
		}
		p, err := f.s.List(ctx, f.a, "", 2, 2)
		if err != nil || p.Total != len(names) || len(p.Members) != 2 || p.Members[0].DisplayName != "bobXsmith" {
			t.Fatalf("page 2 = %+v, %v", p, err)
		}
	})
}

func TestTagsAndOptOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		m := f.create(t, f.a, "Ann", "web", "1")
		for _, tag := range []string{"vip", " vip ", "买过面霜", "vip"} {
			if err := f.s.AddTag(ctx, f.a, m.ID, tag); err != nil {
				t.Fatalf("AddTag(%q): %v", tag, err)
			}
		}
		if tags, err := f.s.Tags(ctx, f.a, m.ID); err != nil || !slices.Equal(tags, []string{"vip", "买过面霜"}) {
			t.Fatalf("Tags = %q, %v", tags, err)
		}
		for _, bad := range []string{"", " \n ", strings.Repeat("t", member.MaxTagLen+1)} {
			if err := f.s.AddTag(ctx, f.a, m.ID, bad); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("AddTag(%q) = %v, want ErrInvalid", bad, err)
			}
		}
		if err := f.s.AddTag(ctx, f.b, m.ID, "spy"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B tagging A's member: %v, want ErrNotFound", err)
		}
		if err := f.s.AddTag(ctx, f.a, 424242, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("tagging an unknown member: %v", err)
		}
		for range 2 {
			if err := f.s.RemoveTag(ctx, f.a, m.ID, "vip"); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.s.RemoveTag(ctx, f.b, m.ID, "买过面霜"); err != nil {
			t.Fatal(err)
		}
		if tags, _ := f.s.Tags(ctx, f.a, m.ID); !slices.Equal(tags, []string{"买过面霜"}) {
			t.Fatalf("after removing: %q (B's remove must not touch A's tag)", tags)
		}
		if tags, _ := f.s.Tags(ctx, f.b, m.ID); len(tags) != 0 {
			t.Fatalf("B reads A's tags: %q", tags)
		}

		if err := f.s.SetOptOut(ctx, f.a, m.ID, true); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.Get(ctx, f.a, m.ID); !got.OptedOut {
			t.Fatal("opt-out not stored")
		}
		if err := f.s.SetOptOut(ctx, f.b, m.ID, false); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B changing A's consent: %v, want ErrNotFound", err)
		}
		if got, _ := f.s.Get(ctx, f.a, m.ID); !got.OptedOut {
			t.Fatal("B's call changed A's member")
		}
		if err := f.s.SetOptOut(ctx, f.a, m.ID, false); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.Get(ctx, f.a, m.ID); got.OptedOut {
			t.Fatal("opt back in not stored")
		}
		if err := f.s.UpdateContact(ctx, member.Member{TenantID: f.b, ID: m.ID, DisplayName: "hijack"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B updating A's member: %v", err)
		}
		if err := f.s.UpdateContact(ctx, member.Member{TenantID: f.a, ID: m.ID, DisplayName: ""}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("invalid update: %v", err)
		}
	})
}

func TestMerge(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		f.s.OnMerge(community.MoveMemberships)
		groups := community.NewService(db, f.log)

		person := f.create(t, f.a, "Ann", "web", "ann")
		tg := f.create(t, f.a, "ann_tg", "telegram", "777")
		line := f.create(t, f.a, "ann_line", "line", "U1")
		other := f.create(t, f.b, "B's", "web", "b")
		tg.Phone = "+886 900"
		f.s.UpdateContact(ctx, tg)
		f.s.SetOptOut(ctx, f.a, line.ID, true)
		f.s.AddTag(ctx, f.a, person.ID, "vip")
		f.s.AddTag(ctx, f.a, tg.ID, "vip")
		f.s.AddTag(ctx, f.a, tg.ID, "telegram-fan")
		f.s.AddTag(ctx, f.a, line.ID, "line-fan")

		var gs []community.Group
		for i := range 3 {
			g, _, err := groups.CreateGroup(ctx, community.Group{TenantID: f.a, Channel: "web", Name: fmt.Sprint("G", i), Kind: community.Vertical})
			if err != nil {
				t.Fatal(err)
			}
			gs = append(gs, g)
		}
		join := func(g community.Group, m member.Member) {
			if _, err := groups.Join(ctx, community.JoinRequest{TenantID: f.a, GroupID: g.ID, MemberID: m.ID, Source: "web"}); err != nil {
				t.Fatal(err)
			}
		}
		join(gs[0], person)
		join(gs[0], tg) // both in G0: the person keeps one membership
		join(gs[1], tg)
		join(gs[2], line)

		// line → tg first, then tg → person: the chain follows.
		if err := f.s.Merge(ctx, f.a, tg.ID, line.ID, 0); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Merge(ctx, f.a, person.ID, tg.ID, 0); err != nil {
			t.Fatal(err)
		}

		for _, id := range []struct{ ch, ext string }{{"web", "ann"}, {"telegram", "777"}, {"line", "U1"}} {
			if got, err := f.s.ByIdentity(ctx, f.a, id.ch, id.ext); err != nil || got.ID != person.ID {
				t.Errorf("ByIdentity(%s/%s) = %d, %v; want the person %d", id.ch, id.ext, got.ID, err, person.ID)
			}
		}
		if ids, _ := f.s.Identities(ctx, f.a, person.ID); len(ids) != 3 {
			t.Errorf("person has %d identities, want 3", len(ids))
		}
		if tags, _ := f.s.Tags(ctx, f.a, person.ID); !slices.Equal(tags, []string{"line-fan", "telegram-fan", "vip"}) {
			t.Errorf("person's tags = %q", tags)
		}
		for _, m := range []member.Member{tg, line} {
			got, _ := f.s.Get(ctx, f.a, m.ID)
			if got.MergedInto != person.ID {
				t.Errorf("%s merged into %d, want %d", m.DisplayName, got.MergedInto, person.ID)
			}
			if p, _ := f.s.Person(ctx, f.a, m.ID); p.ID != person.ID {
				t.Errorf("Person(%s) = %d", m.DisplayName, p.ID)
			}
			if tags, _ := f.s.Tags(ctx, f.a, m.ID); len(tags) != 0 {
				t.Errorf("merged record %s keeps tags %q", m.DisplayName, tags)
			}
		}
		p, _ := f.s.Get(ctx, f.a, person.ID)
		if p.Phone != "+886 900" || !p.OptedOut || p.DisplayName != "Ann" {
			t.Errorf("person after merges: %+v; want the phone of the Telegram record and the opt-out of the LINE one", p)
		}
		if ids, err := f.s.RecordIDs(ctx, f.a, person.ID); err != nil || !slices.Equal(ids, []int64{person.ID, tg.ID, line.ID}) {
			t.Errorf("RecordIDs = %v, %v", ids, err)
		}
		if list, _ := f.s.List(ctx, f.a, "", 10, 0); list.Total != 1 || list.Members[0].ID != person.ID {
			t.Errorf("List after merges = %+v", list)
		}
		if n, _ := f.log.Count(ctx, f.a, event.MemberMerged); n != 2 {
			t.Errorf("%d member_merged events, want 2", n)
		}
		// Memberships moved: the person is in all three groups, once.
		ms, _ := groups.MemberGroups(ctx, f.a, person.ID)
		var in []int64
		for _, m := range ms {
			in = append(in, m.GroupID)
		}
		if !slices.Equal(in, []int64{gs[0].ID, gs[1].ID, gs[2].ID}) {
			t.Errorf("person's groups = %v, want all three", in)
		}
		for _, m := range []member.Member{tg, line} {
			if ms, _ := groups.MemberGroups(ctx, f.a, m.ID); len(ms) != 0 {
				t.Errorf("merged record %s still has %d memberships", m.DisplayName, len(ms))
			}
		}
		if g, _ := groups.Group(ctx, f.a, gs[0].ID); g.MemberCount != 1 {
			t.Errorf("G0 has %d members, want 1", g.MemberCount)
		}

		if err := f.s.Merge(ctx, f.a, person.ID, tg.ID, 0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("merging twice: %v, want ErrConflict", err)
		}
		if err := f.s.Merge(ctx, f.a, tg.ID, person.ID, 0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("merging into a merged record: %v, want ErrConflict", err)
		}
		if err := f.s.Merge(ctx, f.a, person.ID, person.ID, 0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("merging into itself: %v, want ErrInvalid", err)
		}
		for _, c := range []struct{ tenant, into, from int64 }{
			{f.a, person.ID, other.ID}, {f.b, other.ID, person.ID}, {f.b, person.ID, other.ID}, {f.a, person.ID, 424242},
		} {
			if err := f.s.Merge(ctx, c.tenant, c.into, c.from, 0); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Merge(tenant %d, %d ← %d) = %v, want ErrNotFound", c.tenant, c.into, c.from, err)
			}
		}
		if got, _ := f.s.Get(ctx, f.b, other.ID); got.MergedInto != 0 {
			t.Error("a refused cross-tenant merge changed B's member")
		}
		if ids, _ := f.s.RecordIDs(ctx, f.b, person.ID); len(ids) != 0 {
			t.Errorf("B reads A's record ids: %v", ids)
		}
	})
}

// Merges racing for the same record: exactly one wins, and the record, its
// identities and its merge event all go to the winner.
func TestConcurrentMerges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		for round := range 10 {
			from := f.create(t, f.a, "from", "telegram", fmt.Sprint("r", round))
			var into []member.Member
			for i := range 4 {
				into = append(into, f.create(t, f.a, "into", "web", fmt.Sprintf("r%d-%d", round, i)))
			}
			errs := make([]error, len(into))
			var wg sync.WaitGroup
			for i, m := range into {
				wg.Go(func() { errs[i] = f.s.Merge(ctx, f.a, m.ID, from.ID, 0) })
			}
			wg.Wait()
			winner := int64(0)
			for i, err := range errs {
				switch {
				case err == nil:
					if winner != 0 {
						t.Fatalf("round %d: two merges of one record succeeded", round)
					}
					winner = into[i].ID
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("round %d: losing merge: %v, want ErrConflict", round, err)
				}
			}
			if winner == 0 {
				t.Fatalf("round %d: no merge succeeded: %v", round, errs)
			}
			got, _ := f.s.Get(ctx, f.a, from.ID)
			owner, _ := f.s.ByIdentity(ctx, f.a, "telegram", fmt.Sprint("r", round))
			if got.MergedInto != winner || owner.ID != winner {
				t.Fatalf("round %d: merged into %d, identity with %d; want both %d", round, got.MergedInto, owner.ID, winner)
			}
		}
	})
}
