package tenant_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
	"github.com/liveloop/liveloop/internal/tenant"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		s := tenant.NewService(db)
		created, err := s.Create(ctx, tenant.Tenant{Slug: "  Acme-Shop ", Name: " Acme\x00 Shop\n"})
		if err != nil {
			t.Fatal(err)
		}
		if created.ID == 0 || created.Slug != "acme-shop" || created.Name != "Acme Shop" ||
			created.Timezone != "Asia/Shanghai" || created.Locale != "zh-CN" || created.CreatedAt.IsZero() {
			t.Fatalf("created %+v", created)
		}
		for _, get := range []func() (tenant.Tenant, error){
			func() (tenant.Tenant, error) { return s.Get(ctx, created.ID) },
			func() (tenant.Tenant, error) { return s.BySlug(ctx, "ACME-shop") },
		} {
			got, err := get()
			if err != nil || got.ID != created.ID || got.Slug != "acme-shop" || got.Name != "Acme Shop" ||
				got.Timezone != "Asia/Shanghai" || !got.CreatedAt.Equal(created.CreatedAt.Truncate(time.Millisecond)) {
				t.Fatalf("read back %+v, %v; want %+v", got, err, created)
			}
		}
		tw, err := s.Create(ctx, tenant.Tenant{Slug: "tw", Name: "台灣", Timezone: "Asia/Taipei", Locale: "zh-TW"})
		if err != nil || tw.Location().String() != "Asia/Taipei" || tw.Locale != "zh-TW" {
			t.Fatalf("create with zone: %+v, %v", tw, err)
		}
		if _, err := s.Create(ctx, tenant.Tenant{Slug: "ACME-SHOP", Name: "Other"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate slug: %v, want ErrConflict", err)
		}
		if _, err := s.Get(ctx, 99999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get(unknown) = %v", err)
		}
		if _, err := s.BySlug(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("BySlug(unknown) = %v", err)
		}
	})
}

func TestCreateValidates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		s := tenant.NewService(db)
		bad := []tenant.Tenant{
			{Slug: "", Name: "x"},
			{Slug: "a", Name: "x"}, // too short
			{Slug: strings.Repeat("a", 42), Name: "x"},
			{Slug: "-acme", Name: "x"},
			{Slug: "acme shop", Name: "x"},
			{Slug: "acme_shop", Name: "x"},
			{Slug: "acmé", Name: "x"},
			{Slug: "acme/../x", Name: "x"},
			{Slug: "acme", Name: "  \x00\t "},
			{Slug: "acme", Name: "x", Timezone: "Mars/Olympus"},
		}
		for _, tn := range bad {
			if got, err := s.Create(ctx, tn); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Create(%q, %q, %q) = %+v, %v; want ErrInvalid", tn.Slug, tn.Name, tn.Timezone, got, err)
			}
		}
		for _, slug := range []string{"ab", "0shop", "shop-2026", strings.Repeat("z", 41)} {
			if _, err := s.Create(ctx, tenant.Tenant{Slug: slug, Name: "ok"}); err != nil {
				t.Errorf("Create(%q) = %v", slug, err)
			}
		}
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM tenants`).Scan(&n)
		if n != 4 {
			t.Errorf("%d tenants stored, want the 4 valid ones", n)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	if _, err := tenant.HashPassword("short"); !errors.Is(err, tenant.ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
	if _, err := tenant.HashPassword("十个汉字的密码也可以"); err != nil {
		t.Fatalf("10 CJK characters are long enough: %v", err)
	}
	h1, err := tenant.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := tenant.HashPassword("correct horse battery")
	parts := strings.Split(h1, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=65536,t=3,p=2" ||
		len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("hash %q is not an argon2id PHC string with 16-byte salt and 32-byte key", h1)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{{"correct horse battery", true}, {"correct horse batterY", false}, {"", false}} {
		if ok, err := tenant.CheckPassword(h1, c.pw); err != nil || ok != c.want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", c.pw, ok, err, c.want)
		}
	}
	for _, malformed := range []string{"", "plain", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdA$a2V5",
		"$argon2id$v=18$m=65536,t=3,p=2$c2FsdA$a2V5", "$argon2id$v=19$m=x$c2FsdA$a2V5", "$argon2id$v=19$m=65536,t=3,p=2$!!$a2V5",
		"$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$"} {
		if ok, err := tenant.CheckPassword(malformed, "whatever"); err == nil || ok {
			t.Errorf("CheckPassword(%q) = %v, %v; want an error", malformed, ok, err)
		}
	}
}

type fixture struct {
	s      *tenant.Service
	db     *store.DB
	a, b   tenant.Tenant
	aStaff tenant.Staff
}

func setup(t *testing.T, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{s: tenant.NewService(db), db: db}
	var err error
	if f.a, err = f.s.Create(ctx, tenant.Tenant{Slug: "brand-a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if f.b, err = f.s.Create(ctx, tenant.Tenant{Slug: "brand-b", Name: "B"}); err != nil {
		t.Fatal(err)
	}
	f.aStaff, err = f.s.AddStaff(ctx, tenant.Staff{TenantID: f.a.ID, Email: " Lin@Example.COM ", Name: "林", Role: tenant.Owner}, "password-of-a")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStaffAndAuthenticate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		s := f.s
		if f.aStaff.ID == 0 || f.aStaff.Email != "lin@example.com" || f.aStaff.Role != tenant.Owner {
			t.Fatalf("AddStaff = %+v", f.aStaff)
		}
		var stored string
		if err := db.R.QueryRow(`SELECT password_hash FROM staff WHERE id = $1`, f.aStaff.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, "$argon2id$v=19$m=65536,t=3,p=2$") || strings.Contains(stored, "password-of-a") {
			t.Fatalf("stored hash %q", stored)
		}
		// The same email in another tenant is another account.
		bStaff, err := s.AddStaff(ctx, tenant.Staff{TenantID: f.b.ID, Email: "lin@example.com"}, "password-of-b")
		if err != nil {
			t.Fatal(err)
		}
		if bStaff.Role != tenant.Operator || bStaff.Name != "lin@example.com" {
			t.Fatalf("defaults: %+v", bStaff)
		}
		if _, err := s.AddStaff(ctx, tenant.Staff{TenantID: f.a.ID, Email: "LIN@example.com"}, "another-password"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate email: %v, want ErrConflict", err)
		}
		for _, c := range []struct{ email, pw string }{{"no-at-sign", "long enough pw"}, {"x@y.z", "short"}, {strings.Repeat("a", 200) + "@x.y", "long enough pw"}} {
			if _, err := s.AddStaff(ctx, tenant.Staff{TenantID: f.a.ID, Email: c.email}, c.pw); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("AddStaff(%q, %q) = %v, want ErrInvalid", c.email, c.pw, err)
			}
		}
		if _, err := s.AddStaff(ctx, tenant.Staff{TenantID: f.a.ID, Email: "x@y.z", Role: "admin"}, "long enough pw"); err == nil {
			t.Error("AddStaff with an unknown role succeeded")
		}

		got, err := s.Authenticate(ctx, " Brand-A ", "LIN@example.com ", "password-of-a")
		if err != nil || got.ID != f.aStaff.ID || got.TenantID != f.a.ID || got.Name != "林" || got.Role != tenant.Owner {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
		if got, err := s.Authenticate(ctx, "brand-b", "lin@example.com", "password-of-b"); err != nil || got.ID != bStaff.ID {
			t.Fatalf("Authenticate B = %+v, %v", got, err)
		}
		for _, c := range []struct{ slug, email, pw string }{
			{"brand-a", "lin@example.com", "password-of-b"}, // wrong password (B's)
			{"brand-a", "lin@example.com", ""},
			{"brand-c", "lin@example.com", "password-of-a"}, // unknown tenant
			{"brand-a", "nobody@example.com", "password-of-a"},
			{"brand-b", "lin@example.com", "password-of-a"}, // A's password in B
		} {
			got, err := s.Authenticate(ctx, c.slug, c.email, c.pw)
			if !errors.Is(err, tenant.ErrBadLogin) || got.ID != 0 {
				t.Errorf("Authenticate(%q, %q, %q) = %+v, %v; want ErrBadLogin", c.slug, c.email, c.pw, got, err)
			}
		}

		if got, err := s.Staff(ctx, f.a.ID, f.aStaff.ID); err != nil || got.Email != "lin@example.com" {
			t.Fatalf("Staff = %+v, %v", got, err)
		}
		if _, err := s.Staff(ctx, f.b.ID, f.aStaff.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("A's staff read with B's id: %v, want ErrNotFound", err)
		}
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		f := setup(t, db)
		s := f.s
		sess, err := s.NewSession(ctx, f.aStaff)
		if err != nil {
			t.Fatal(err)
		}
		if len(sess.Token) < 40 || len(sess.CSRFToken) < 40 || sess.Token == sess.CSRFToken {
			t.Fatalf("weak tokens: %+v", sess)
		}
		if d := time.Until(sess.ExpiresAt); d < tenant.SessionTTL-time.Minute || d > tenant.SessionTTL {
			t.Fatalf("expires in %v", d)
		}
		got, err := s.SessionByToken(ctx, sess.Token)
		if err != nil || got.TenantID != f.a.ID || got.StaffID != f.aStaff.ID || got.CSRFToken != sess.CSRFToken ||
			!got.ExpiresAt.Equal(sess.ExpiresAt.Truncate(time.Millisecond)) || got.Token != "" {
			t.Fatalf("SessionByToken = %+v, %v; want %+v", got, err, sess)
		}
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM sessions WHERE token_hash = $1`, sess.Token).Scan(&n)
		if n != 0 {
			t.Fatal("the raw token is stored")
		}
		if _, err := s.SessionByToken(ctx, sess.Token+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("wrong token: %v", err)
		}
		if _, err := s.SessionByToken(ctx, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty token: %v", err)
		}

		// An expired session is not returned, and pruning deletes it.
		old, _ := s.NewSession(ctx, f.aStaff)
		if _, err := db.W.Exec(`UPDATE sessions SET expires_at = $1 WHERE csrf_token = $2`,
			store.Millis(time.Now().Add(-time.Second)), old.CSRFToken); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, old.Token); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v, want ErrNotFound", err)
		}
		if pruned, err := s.PruneSessions(ctx); err != nil || pruned != 1 {
			t.Fatalf("PruneSessions = %d, %v; want 1", pruned, err)
		}

		if err := s.EndSession(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, sess.Token); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after EndSession: %v", err)
		}
		if err := s.EndSession(ctx, sess.Token); err != nil {
			t.Fatalf("EndSession twice: %v", err)
		}
	})
}
