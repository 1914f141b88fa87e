package commerce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/transform"
)

// The fields a CSV mapping maps headers to. order_id, paid_at and amount
// are required; the order's fields (paid_at … refunded) may repeat on
// every row of an order or stand on its first row only (Shopify), and must
// not disagree; sku, name, qty and price describe the row's line.
const (
	FieldOrderID     = "order_id"
	FieldPaidAt      = "paid_at"
	FieldAmount      = "amount"
	FieldCurrency    = "currency"
	FieldPhone       = "phone"
	FieldEmail       = "email"
	FieldChannel     = "channel"
	FieldChannelUser = "channel_user"
	FieldCoupon      = "coupon"
	FieldRefunded    = "refunded"
	FieldSKU         = "sku"
	FieldName        = "name"
	FieldQty         = "qty"
	FieldPrice       = "price"
)

// Fields lists every field of a mapping.
var Fields = []string{FieldOrderID, FieldPaidAt, FieldAmount, FieldCurrency, FieldPhone, FieldEmail, FieldChannel, FieldChannelUser,
	FieldCoupon, FieldRefunded, FieldSKU, FieldName, FieldQty, FieldPrice}

var (
	requiredFields = []string{FieldOrderID, FieldPaidAt, FieldAmount}
	orderFields    = []string{FieldPaidAt, FieldAmount, FieldCurrency, FieldPhone, FieldEmail, FieldChannel, FieldChannelUser, FieldCoupon, FieldRefunded}
)

// Mapping maps fields to a CSV file's headers.
type Mapping struct {
	Name    string
	Columns map[string]string // field → header
	// Builtin mappings take files without their optional columns; a custom
	// mapping names only columns the file must have.
	Builtin bool
}

// Shopify is Shopify's orders export: one row per line item, the order's
// fields on its first row ("Name" is the order id, "#1001").
var Shopify = Mapping{Name: "shopify", Builtin: true, Columns: map[string]string{
	FieldOrderID: "Name", FieldEmail: "Email", FieldPhone: "Phone", FieldPaidAt: "Paid at", FieldAmount: "Total",
	FieldCurrency: "Currency", FieldSKU: "Lineitem sku", FieldName: "Lineitem name", FieldQty: "Lineitem quantity",
	FieldPrice: "Lineitem price", FieldRefunded: "Refunded Amount", FieldCoupon: "Discount Code",
}}

// Generic is liveloop's own layout: a header per field, named as the
// field, one row per line with the order id repeated.
var Generic = func() Mapping {
	m := Mapping{Name: "generic", Builtin: true, Columns: map[string]string{}}
	for _, f := range Fields {
		m.Columns[f] = f
	}
	return m
}()

// MappingNamed returns a built-in mapping.
func MappingNamed(name string) (Mapping, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "shopify":
		return Shopify, true
	case "generic", "":
		return Generic, true
	}
	return Mapping{}, false
}

// ParseMapping reads a custom mapping: a JSON object {field: header}.
func ParseMapping(name string, b []byte) (Mapping, error) {
	m := Mapping{Name: name, Columns: map[string]string{}}
	if err := json.Unmarshal(b, &m.Columns); err != nil {
		return m, invalid("mapping %s is not a JSON object of field to header: %v", name, err)
	}
	var problems []string
	for f, h := range m.Columns {
		if !slices.Contains(Fields, f) {
			problems = append(problems, fmt.Sprintf("unknown field %q (fields: %s)", f, strings.Join(Fields, ", ")))
		}
		if strings.TrimSpace(h) == "" {
			problems = append(problems, fmt.Sprintf("field %s has no header", f))
		}
	}
	for _, f := range requiredFields {
		if m.Columns[f] == "" {
			problems = append(problems, fmt.Sprintf("%s must be mapped", f))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return m, invalid("mapping %s: %s", name, strings.Join(problems, "; "))
	}
	return m, nil
}

// Encodings of a CSV file.
const (
	EncodingAuto    = "auto"
	EncodingUTF8    = "utf-8"
	EncodingGB18030 = "gb18030" // also GBK and GB2312, its subsets
	EncodingBig5    = "big5"
)

// NormEncoding names an encoding as Import takes it.
func NormEncoding(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return EncodingAuto, nil
	case "utf-8", "utf8":
		return EncodingUTF8, nil
	case "gbk", "gb18030", "gb2312", "cp936":
		return EncodingGB18030, nil
	case "big5", "big-5", "cp950":
		return EncodingBig5, nil
	}
	return "", invalid("unknown encoding %q: auto, utf-8, gbk (gb18030) or big5", s)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// DetectEncoding guesses a file's encoding from its start:
//
//   - valid UTF-8 (after a BOM, ignoring a sequence cut at the end of the
//     sample) is UTF-8;
//   - otherwise GB18030 and Big5 are scored on the double-byte pairs:
//     a pair in the common block of the encoding counts 1 (GB2312's hanzi
//     and punctuation, lead bytes B0–F7 and A1–A3 with a trail A1–FE; Big5's
//     frequent characters and symbols, lead A1–C6), and each byte sequence
//     the decoder finds invalid costs 4. Chinese text in one encoding read
//     as the other falls outside the common block (Big5 trail bytes 40–7E
//     are never GB2312's) or is invalid (GBK trail bytes 80–A0 are not
//     Big5's), so the higher score wins; a tie is GB18030, the more common
//     export.
//
// The --encoding flag (or the console's select) overrides the guess.
func DetectEncoding(sample []byte) string {
	sample = bytes.TrimPrefix(sample, utf8BOM)
	if utf8.Valid(trimCut(sample)) {
		return EncodingUTF8
	}
	gb := commonPairs(sample, true) - 4*invalidRunes(sample, EncodingGB18030)
	b5 := commonPairs(sample, false) - 4*invalidRunes(sample, EncodingBig5)
	if b5 > gb {
		return EncodingBig5
	}
	return EncodingGB18030
}

// trimCut drops an incomplete UTF-8 sequence at the end of a sample.
func trimCut(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

func commonPairs(b []byte, gb bool) int {
	n := 0
	for i := 0; i+1 < len(b); {
		lead, trail := b[i], b[i+1]
		if lead < 0x80 {
			i++
			continue
		}
		if gb {
			if i+3 < len(b) && trail >= 0x30 && trail <= 0x39 { // a GB18030 four-byte sequence
				i += 4
				continue
			}
			if ((lead >= 0xB0 && lead <= 0xF7) || (lead >= 0xA1 && lead <= 0xA3)) && trail >= 0xA1 && trail <= 0xFE {
				n++
			}
		} else if lead >= 0xA1 && lead <= 0xC6 && ((trail >= 0x40 && trail <= 0x7E) || (trail >= 0xA1 && trail <= 0xFE)) {
			n++
		}
		i += 2
	}
	return n
}

func invalidRunes(b []byte, enc string) int {
	out, _, err := transform.Bytes(decoderOf(enc), b)
	if err != nil {
		return len(b)
	}
	return bytes.Count(out, []byte("\uFFFD"))
}

func decoderOf(enc string) transform.Transformer {
	switch enc {
	case EncodingGB18030:
		return simplifiedchinese.GB18030.NewDecoder()
	case EncodingBig5:
		return traditionalchinese.Big5.NewDecoder()
	}
	return transform.Nop
}

var moneyRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,2})?$`)

// ParseMoney reads an amount in major units ("1,299.50", "¥88", "-3")
// into minor units; negative amounts are returned as such for the caller
// to refuse.
func ParseMoney(s string) (int64, error) {
	v := strings.TrimSpace(s)
	for _, p := range []string{"CN¥", "NT$", "HK$", "US$", "RMB", "CNY", "TWD", "¥", "￥", "$"} {
		v = strings.TrimSpace(strings.TrimPrefix(v, p))
	}
	v = strings.TrimSuffix(v, "元")
	v = strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(v)
	if strings.HasPrefix(v, "-") {
		for _, p := range []string{"¥", "￥", "$"} {
			v = "-" + strings.TrimPrefix(v[1:], p)
		}
	}
	if !moneyRE.MatchString(v) {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	whole, frac, _ := strings.Cut(v, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > MaxAmountMinor {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	if neg {
		n = -n
	}
	return n, nil
}

var zonedLayouts = []string{"2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 -07:00", time.RFC3339, "2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05Z07:00"}

var localLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02", "2006/01/02 15:04:05",
	"2006/01/02 15:04", "2006/01/02", "2006/1/2 15:04:05", "2006/1/2 15:04", "2006/1/2", "2006-1-2 15:04:05", "2006-1-2 15:04", "2006-1-2"}

// ParseTime reads a paid time: with a zone (Shopify's "2024-01-15
// 10:23:45 +0800", RFC 3339) or without, in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (use 2006-01-02 15:04:05, optionally with a zone)", s)
}
