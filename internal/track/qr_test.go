package track

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestQRPNGDecodes(t *testing.T) {
	b, err := QRPNG("http://localhost:8080/j/abcDEF2345", 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 256 {
		t.Fatalf("width %d", img.Bounds().Dx())
	}
}

func TestQRSVG(t *testing.T) {
	s, err := QRSVG("http://localhost:8080/j/abcDEF2345")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "h1v1h-1z") {
		t.Fatalf("not an SVG QR: %.80s", s)
	}
}
