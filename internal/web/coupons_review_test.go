package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/liveloop/liveloop/internal/app/apptest"
	"github.com/liveloop/liveloop/internal/store"
)

// The coupons page announces only what the member's claim did: a link
// with ?claimed= naming a code they do not hold, or an unknown ?refused=
// reason, shows nothing (a crafted link cannot make the brand's page say
// "you claimed FREE-100, call …"); the real redirect still shows the code.
func TestMemberCouponsPageAnnouncesOnlyRealClaims(t *testing.T) {
	e := apptest.Start(t, store.SQLite)
	b := e.Brand("cpnlink")
	op := e.Client()
	op.Login(b)
	batch := newBatch(t, op, "春季券", 3)
	fan := e.Client()
	fan.Join(b.JoinCode.Code, "Lin")
	page := fan.Get("/m/cpnlink/coupons?claimed=FREE-100-CALL-555&refused=bogus_reason")
	must(t, page, http.StatusOK, "春季券")
	if strings.Contains(page.Body, "FREE-100-CALL-555") || strings.Contains(page.Body, "bogus_reason") {
		t.Fatalf("the page repeats the link's words: %.1500s", page.Body)
	}
	r := fan.PostForm(fmt.Sprintf("/m/cpnlink/coupons/%d/claim", batch), nil)
	must(t, r, http.StatusSeeOther)
	code := strings.TrimPrefix(r.Header.Get("Location"), "/m/cpnlink/coupons?claimed=")
	must(t, fan.Get(r.Header.Get("Location")), http.StatusOK, "data-code>"+code+"<")
	r = fan.PostForm(fmt.Sprintf("/m/cpnlink/coupons/%d/claim", batch), nil)
	must(t, fan.Get(r.Header.Get("Location")), http.StatusOK, `data-refused="limit"`)
	// Another member cannot be shown this member's code as their claim.
	other := e.Client()
	other.Join(b.JoinCode.Code, "Wu")
	if p := other.Get("/m/cpnlink/coupons?claimed=" + code); strings.Contains(p.Body, code) {
		t.Fatal("another member's page announces this member's code")
	}
	// A member of another brand, claiming this brand's batch on their own
	// brand's path: 404, nothing handed out.
	elsewhere := e.Brand("cpnlink2")
	stranger := e.Client()
	stranger.Join(elsewhere.JoinCode.Code, "Zhao")
	if r := stranger.PostForm(fmt.Sprintf("/m/cpnlink2/coupons/%d/claim", batch), nil); r.Status != http.StatusNotFound {
		t.Fatalf("another brand's batch: %d %s", r.Status, r.Header.Get("Location"))
	}
	if n := commerceCount(t, e, `SELECT COUNT(*) FROM coupon_codes WHERE batch_id = $1 AND member_id <> 0`, batch); n != 1 {
		t.Fatalf("%d codes handed out; want 1", n)
	}
}
