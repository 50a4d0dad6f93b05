package geo

import (
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	// a point in 锡山区, Wuxi
	lat, lon := 31.5895, 120.3573
	glat, glon := ToGCJ02(lat, lon)
	if math.Abs(glat-lat) < 1e-4 && math.Abs(glon-lon) < 1e-4 {
		t.Fatal("GCJ-02 offset missing inside China")
	}
	p, err := ToWGS84(GCJ02, glat, glon)
	if err != nil || math.Abs(p.Lat-lat) > 1e-7 || math.Abs(p.Lon-lon) > 1e-7 {
		t.Fatalf("GCJ-02 round trip: %+v %v", p, err)
	}
	// outside China nothing moves
	if la, lo := ToGCJ02(48.85, 2.35); la != 48.85 || lo != 2.35 {
		t.Fatal("offset applied outside China")
	}
	if _, err := ToWGS84(WGS84, 91, 0); err == nil {
		t.Fatal("latitude 91 accepted")
	}
	if s, err := ParseSystem("BD09"); err != nil || s != BD09 {
		t.Fatal(s, err)
	}
	// BD-09 from GCJ-02 by the published forward formula, and back
	x, y := glon, glat
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*xPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*xPi)
	b, _ := ToWGS84(BD09, z*math.Sin(theta)+0.006, z*math.Cos(theta)+0.0065)
	if math.Abs(b.Lat-lat) > 1e-5 || math.Abs(b.Lon-lon) > 1e-5 {
		t.Fatalf("BD-09: %+v", b)
	}
}
