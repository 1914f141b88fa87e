package commerce_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/liveloop/liveloop/internal/commerce"
	"github.com/liveloop/liveloop/internal/store"
	"github.com/liveloop/liveloop/internal/store/storetest"
)

const genericHeader = "order_id,paid_at,amount,phone,email,channel,channel_user,coupon,sku,name,qty,price,refunded\n"

// badFile has valid orders and each kind of bad row; the comments give the
// row numbers (the header is row 1).
const badFile = genericHeader +
	"A1,2026-02-01 10:00,120.00,13800138000,,,,,TEA,乌龙茶,2,50.00,\n" + // 2
	"A1,2026-02-01 10:00,120.00,13800138000,,,,,CUP,杯子,1,20.00,\n" + // 3
	"A2,2026-02-02,-5.00,,,,,,TEA,乌龙茶,1,5.00,\n" + // 4 negative amount
	"A3,yesterday,10.00,,,,,,TEA,乌龙茶,1,10.00,\n" + // 5 bad date
	"A4,2026-02-03,10.00,,,,,,MYSTERY,?,1,10.00,\n" + // 6 unknown SKU
	"A5,2026-02-03,30.00,,eve@shop.test,,,,TEA,乌龙茶,1,30.00,10.00\n" + // 7 ok, refunded 10
	"A1,2026-02-01 10:00,120.00,13800138000,,,,,TEA,乌龙茶,2,50.00,\n" + // 8 A1 again
	"A6,2026-02-04,40.00,,,,,,TEA,乌龙茶,1,40.00,\n" + // 9 conflicting amount on row 10
	"A6,2026-02-04,45.00,,,,,,CUP,杯子,1,5.00,\n" + // 10
	"A7,2026-02-05,8.00,,,,,,TEA,乌龙茶,x,8.00,\n" + // 11 bad quantity
	"A8,2026-02-05 08:00:00 +0800,88.00,,,,,,,,,,\n" + // 12 ok, no lines
	"A9,2026-02-05,1\"0.00,,,,,,,,,,\n" // 13 a bare quote

func products(t *testing.T, f *fixture) {
	t.Helper()
	for _, p := range []commerce.Product{{SKU: "TEA", Name: "乌龙茶", PriceMinor: 50_00}, {SKU: "CUP", Name: "杯子", PriceMinor: 20_00}} {
		p.TenantID = f.tenant
		if _, err := f.svc.SaveProduct(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) importFile(data []byte, opt commerce.ImportOptions) (commerce.Report, error) {
	opt.TenantID = f.tenant
	if opt.Mapping.Name == "" {
		opt.Mapping = commerce.Generic
	}
	return f.svc.Import(context.Background(), bytes.NewReader(data), opt)
}

// Bad rows are reported by row with their reason and the valid orders are
// imported; importing the file again changes nothing and finds every
// order a duplicate.
func TestImportReportsBadRowsAndIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "imp")
		products(t, f)
		ann := f.member("Ann", "+86 138 0013 8000", "")
		rep, err := f.importFile([]byte(badFile), commerce.ImportOptions{Encoding: "auto"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 12 || rep.Imported != 3 || rep.Matched != 1 || rep.Unmatched != 2 || rep.Duplicates != 0 || !rep.Done || rep.Encoding != "utf-8" {
			t.Fatalf("report: %+v", rep)
		}
		want := map[int]string{4: "negative amount", 5: "paid time", 6: "unknown SKU \"MYSTERY\"", 8: "appears again (first on row 2)",
			10: "another amount here", 11: "quantity \"x\"", 13: "not valid CSV (line 13 of the file): bare \""}
		if rep.Errors != len(want) {
			t.Errorf("%d errors; want %d: %+v", rep.Errors, len(want), rep.Problems)
		}
		for _, p := range rep.Problems {
			if w, ok := want[p.Row]; !ok || !strings.Contains(p.Reason, w) {
				t.Errorf("row %d: %q; want %q", p.Row, p.Reason, w)
			}
		}
		if st := f.stats(ann); st.SpendMinor != 120_00 || st.Orders != 1 {
			t.Fatalf("ann: %+v", st)
		}
		a5, err := f.svc.OrderByExternal(context.Background(), f.tenant, "A5")
		if err != nil || a5.RefundedMinor != 10_00 || a5.Email != "eve@shop.test" || len(a5.Lines) != 1 || a5.Lines[0].ProductID == 0 {
			t.Fatalf("A5: %+v %v", a5, err)
		}
		a1, _ := f.svc.OrderByExternal(context.Background(), f.tenant, "A1")
		if len(a1.Lines) != 2 || a1.Lines[0].Qty != 2 || a1.Lines[1].Name != "杯子" || a1.AmountMinor != 120_00 {
			t.Fatalf("A1: %+v", a1)
		}
		snapshot := func() string {
			return fmt.Sprint(f.count(`SELECT COUNT(*) FROM orders WHERE tenant_id = $1`, f.tenant),
				f.count(`SELECT COUNT(*) FROM order_lines WHERE tenant_id = $1`, f.tenant),
				f.count(`SELECT COUNT(*) FROM events WHERE tenant_id = $1`, f.tenant),
				f.count(`SELECT COALESCE(SUM(spend_minor), 0) FROM member_commerce WHERE tenant_id = $1`, f.tenant))
		}
		before := snapshot()
		again, err := f.importFile([]byte(badFile), commerce.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if again.Imported != 0 || again.Duplicates != 3 || again.Errors != 7 || again.ResumedAfter != 0 {
			t.Fatalf("second import: %+v", again)
		}
		if after := snapshot(); after != before {
			t.Fatalf("the second import changed the data: %s → %s", before, after)
		}
	})
}

// A batch that fails stores nothing; importing the file again resumes
// after the last committed batch, and the counts come out as those of one
// uninterrupted import.
func TestImportResumesAfterAFailedBatch(t *testing.T) {
	var b strings.Builder
	b.WriteString(genericHeader)
	for i := range 23 {
		phone := ""
		if i%3 == 0 {
			phone = "13800138000"
		}
		fmt.Fprintf(&b, "R%02d,2026-02-01,%d.00,%s,,,,,TEA,茶,1,1.00,\n", i, i+1, phone)
		if i%5 == 0 {
			fmt.Fprintf(&b, "R%02d,2026-02-01,%d.00,,,,,,CUP,杯,2,1.00,\n", i, i+1)
		}
		if i == 11 {
			b.WriteString("BAD,2026-02-01,-1,,,,,,TEA,茶,1,1.00,\n")
		}
	}
	file := []byte(b.String())
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ref := setup(t, db, "ref")
		ref.member("Ann", "13800138000", "")
		whole, err := ref.importFile(file, commerce.ImportOptions{Batch: 4})
		if err != nil || whole.Imported != 23 || whole.Errors != 1 || whole.Matched != 8 {
			t.Fatalf("uninterrupted: %+v %v", whole, err)
		}

		f := setup(t, db, "resume")
		f.member("Ann", "13800138000", "")
		boom := errors.New("disk on fire")
		f.svc.SetImportHook(func(batch int) error {
			if batch == 2 {
				return boom
			}
			return nil
		})
		rep, err := f.importFile(file, commerce.ImportOptions{Batch: 4})
		if !errors.Is(err, boom) || rep.Imported != 8 || rep.Done {
			t.Fatalf("failed import: %+v %v", rep, err)
		}
		if n := f.count(`SELECT COUNT(*) FROM orders WHERE tenant_id = $1`, f.tenant); n != 8 {
			t.Fatalf("%d orders after batches 0 and 1; want 8 (the failed batch left nothing)", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = 'order_paid'`, f.tenant); n != 8 {
			t.Fatalf("%d order events after the failure", n)
		}
		f.svc.SetImportHook(nil)
		rep, err = f.importFile(file, commerce.ImportOptions{Batch: 4})
		if err != nil || rep.ResumedAfter == 0 || !rep.Done {
			t.Fatalf("resumed: %+v %v", rep, err)
		}
		if rep.Imported != whole.Imported || rep.Matched != whole.Matched || rep.Unmatched != whole.Unmatched || rep.Duplicates != 0 || rep.Errors != whole.Errors || rep.Rows != whole.Rows {
			t.Fatalf("resumed counts %+v; uninterrupted %+v", rep, whole)
		}
		if n := f.count(`SELECT COUNT(*) FROM order_lines WHERE tenant_id = $1`, f.tenant); n != f.count(`SELECT COUNT(*) FROM order_lines WHERE tenant_id = $1`, ref.tenant) {
			t.Fatalf("lines differ from the uninterrupted import: %d", n)
		}
		// Read to the end: a third run reads it all and finds duplicates.
		rep, err = f.importFile(file, commerce.ImportOptions{Batch: 4})
		if err != nil || rep.Duplicates != 23 || rep.Imported != 0 || rep.ResumedAfter != 0 {
			t.Fatalf("third run: %+v %v", rep, err)
		}
	})
}

func encode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GBK and Big5 exports are detected (or named) and decoded.
func TestImportEncodings(t *testing.T) {
	simplified := genericHeader +
		"G1,2026-02-01,99.00,,,,,,,铁观音礼盒装（特级）,1,99.00,\n" +
		"G2,2026-02-01,25.50,,,,,,,云南普洱茶饼 七子饼 熟茶,3,8.50,\n" +
		"G3,2026-02-02,12.00,,,,,,,龙井绿茶 明前 新茶 春季限定,1,12.00,\n"
	traditional := genericHeader +
		"B1,2026-02-01,99.00,,,,,,,鐵觀音禮盒裝（特級）,1,99.00,\n" +
		"B2,2026-02-01,25.50,,,,,,,雲南普洱茶餅 七子餅 熟茶,3,8.50,\n" +
		"B3,2026-02-02,12.00,,,,,,,龍井綠茶 明前 新茶 春季限定,1,12.00,\n"
	gbk := encode(t, simplifiedchinese.GBK, simplified)
	big5 := encode(t, traditionalchinese.Big5, traditional)
	if got := commerce.DetectEncoding(gbk); got != commerce.EncodingGB18030 {
		t.Errorf("GBK detected as %s", got)
	}
	if got := commerce.DetectEncoding(big5); got != commerce.EncodingBig5 {
		t.Errorf("Big5 detected as %s", got)
	}
	if got := commerce.DetectEncoding(append([]byte("\xef\xbb\xbf"), simplified...)); got != commerce.EncodingUTF8 {
		t.Errorf("UTF-8 with BOM detected as %s", got)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "enc")
		for _, c := range []struct {
			data     []byte
			enc, id  string
			wantName string
		}{
			{gbk, "auto", "G1", "铁观音礼盒装（特级）"},
			{big5, "auto", "B1", "鐵觀音禮盒裝（特級）"},
			{append([]byte("\xef\xbb\xbf"), strings.ReplaceAll(simplified, "G", "U")...), "auto", "U1", "铁观音礼盒装（特级）"},
		} {
			rep, err := f.importFile(c.data, commerce.ImportOptions{Encoding: c.enc})
			if err != nil || rep.Imported != 3 || rep.Errors != 0 {
				t.Fatalf("%s: %+v %v", c.id, rep, err)
			}
			o, err := f.svc.OrderByExternal(ctx, f.tenant, c.id)
			if err != nil || len(o.Lines) != 1 || o.Lines[0].Name != c.wantName {
				t.Fatalf("%s: %+v %v", c.id, o, err)
			}
		}
		// The flag overrides: Big5 bytes read as GBK are another file's text.
		g := setup(t, db, "enc2")
		if _, err := g.importFile(big5, commerce.ImportOptions{Encoding: "gbk"}); err != nil {
			t.Fatal(err)
		}
		o, _ := g.svc.OrderByExternal(ctx, g.tenant, "B1")
		if len(o.Lines) != 1 || o.Lines[0].Name == "鐵觀音禮盒裝（特級）" {
			t.Fatalf("forced GBK still decoded Big5: %+v", o.Lines)
		}
		if _, err := g.importFile(big5, commerce.ImportOptions{Encoding: "latin-9"}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("unknown encoding: %v", err)
		}
	})
}

// A file without the mapping's columns is refused before anything is
// stored, naming the missing headers.
func TestImportWrongColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "cols")
		_, err := f.importFile([]byte("id,when,total\n1,2026-01-01,3\n"), commerce.ImportOptions{})
		if !errors.Is(err, store.ErrInvalid) || !contains(err.Error(), `"order_id"`, `"paid_at"`, `"amount"`, "its header row is: id, when, total") {
			t.Fatalf("wrong columns: %v", err)
		}
		custom, err := commerce.ParseMapping("mine.json", []byte(`{"order_id":"单号","paid_at":"付款时间","amount":"实付","phone":"手机"}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.importFile([]byte("单号,付款时间,实付\n1,2026-01-01,3\n"), commerce.ImportOptions{Mapping: custom})
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), `"手机"`) {
			t.Fatalf("custom mapping's column missing: %v", err)
		}
		rep, err := f.importFile([]byte("单号,付款时间,实付,手机\n1,2026-01-01,3,13800138000\n"), commerce.ImportOptions{Mapping: custom})
		if err != nil || rep.Imported != 1 {
			t.Fatalf("custom mapping: %+v %v", rep, err)
		}
		if _, err := commerce.ParseMapping("bad.json", []byte(`{"order_id":"x","colour":"y"}`)); err == nil || !contains(err.Error(), `unknown field "colour"`, "paid_at must be mapped") {
			t.Fatalf("bad mapping: %v", err)
		}
		if n := f.count(`SELECT COUNT(*) FROM orders WHERE tenant_id = $1`, f.tenant); n != 1 {
			t.Fatalf("%d orders", n)
		}
	})
}

// Shopify's export: one row per line item, the order's fields on its
// first row only.
func TestImportShopify(t *testing.T) {
	file := "Name,Email,Financial Status,Paid at,Currency,Total,Discount Code,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount,Phone\n" +
		"#1001,ann@shop.test,paid,2026-02-10 20:15:00 +0800,CNY,158.00,LIVE10,1,Oolong,98.00,TEA,0.00,\n" +
		"#1001,,,,,,,2,Cup,30.00,CUP,,\n" +
		"#1002,,paid,2026-02-11 09:00:00 +0800,CNY,30.00,,1,Cup,30.00,CUP,30.00,+86 139 0000 0000\n"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, "shopify")
		ann := f.member("Ann", "", "ann@shop.test")
		rep, err := f.importFile([]byte(file), commerce.ImportOptions{Mapping: commerce.Shopify})
		if err != nil || rep.Imported != 2 || rep.Matched != 1 || rep.Errors != 0 {
			t.Fatalf("shopify: %+v %v", rep, err)
		}
		o, _ := f.svc.OrderByExternal(ctx, f.tenant, "#1001")
		if o.MemberID != ann || o.Coupon != "LIVE10" || len(o.Lines) != 2 || o.Lines[1].Qty != 2 || o.AmountMinor != 158_00 || o.PaidAt.Hour() != 12 {
			t.Fatalf("#1001: %+v", o)
		}
		o, _ = f.svc.OrderByExternal(ctx, f.tenant, "#1002")
		if o.Phone != "13900000000" || o.RefundedMinor != 30_00 || o.Net() != 0 {
			t.Fatalf("#1002: %+v", o)
		}
	})
}

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]int64{"12": 1200, "12.5": 1250, "1,299.99": 129999, "¥88": 8800, "-3.00": -300, "￥ 1.05": 105, "8元": 800} {
		if got, err := commerce.ParseMoney(in); err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1.234", "1e3", "--1"} {
		if _, err := commerce.ParseMoney(in); err == nil {
			t.Errorf("ParseMoney(%q) accepted", in)
		}
	}
}

// A quantity too large for a line (order_lines.qty is 32-bit on
// PostgreSQL) is that row's error, not a failed batch that would take the
// valid orders around it down with it on every retry; the shop API's
// order with one is refused with the reason, as is a huge line price.
func TestHugeQuantityIsARowError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, "huge")
		file := genericHeader +
			"H1,2026-02-01,10.00,,,,,,TEA,乌龙茶,1,10.00,\n" +
			"H2,2026-02-01,10.00,,,,,,TEA,乌龙茶,3000000000,10.00,\n" +
			"H3,2026-02-01,10.00,,,,,,TEA,乌龙茶,1,10.00,\n"
		rep, err := f.importFile([]byte(file), commerce.ImportOptions{})
		if err != nil {
			t.Fatalf("import failed whole: %v", err)
		}
		if rep.Imported != 2 || rep.Errors != 1 || !rep.Done || len(rep.Problems) != 1 || rep.Problems[0].Row != 3 ||
			!strings.Contains(rep.Problems[0].Reason, "quantity must be at most") {
			t.Fatalf("report %+v", rep)
		}
		for _, l := range []commerce.Line{{SKU: "TEA", Qty: 3_000_000_000}, {SKU: "TEA", Qty: 1, UnitPriceMinor: 1 << 62}} {
			_, _, err := f.svc.Record(context.Background(), commerce.Order{TenantID: f.tenant, ExternalID: "API-1", Source: commerce.FromAPI,
				AmountMinor: 1, PaidAt: day0, Lines: []commerce.Line{l}})
			if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "line 1:") {
				t.Fatalf("line %+v: %v", l, err)
			}
		}
	})
}
