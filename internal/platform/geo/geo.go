// Package geo converts between the coordinate systems found in China.
// Shequ stores WGS-84 (equal to CGCS2000 at the precision of a household
// point). Chinese web maps and phones often give GCJ-02 ("Mars"
// coordinates, AutoNavi/Tencent) or BD-09 (Baidu); input in those is
// converted on entry, and out again only where tiles need it.
//
// The GCJ-02 forward transform is the widely published reverse-engineered
// formula (Krasovsky ellipsoid parameters); there is no closed-form inverse,
// so FromGCJ02 iterates the forward transform (error < 1e-7 degrees, a
// centimetre).
package geo

import (
	"fmt"
	"math"
	"strings"
)

// System names a coordinate system.
type System string

const (
	WGS84  System = "wgs84"
	GCJ02  System = "gcj02"
	BD09   System = "bd09"
	CGCS00 System = "cgcs2000" // same as WGS-84 at this precision
)

// Point is a WGS-84 position.
type Point struct{ Lat, Lon float64 }

// ParseSystem reads a system name (case-insensitive; "" means WGS-84).
func ParseSystem(s string) (System, error) {
	switch System(strings.ToLower(strings.TrimSpace(s))) {
	case "", WGS84, CGCS00:
		return WGS84, nil
	case GCJ02:
		return GCJ02, nil
	case BD09:
		return BD09, nil
	}
	return "", fmt.Errorf("unknown coordinate system %q (want wgs84, cgcs2000, gcj02 or bd09)", s)
}

// ToWGS84 converts a point given in sys to WGS-84.
func ToWGS84(sys System, lat, lon float64) (Point, error) {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return Point{}, fmt.Errorf("coordinates out of range: %v, %v", lat, lon)
	}
	switch sys {
	case "", WGS84, CGCS00:
		return Point{lat, lon}, nil
	case GCJ02:
		return FromGCJ02(lat, lon), nil
	case BD09:
		glat, glon := bd09ToGCJ02(lat, lon)
		return FromGCJ02(glat, glon), nil
	}
	return Point{}, fmt.Errorf("unknown coordinate system %q", sys)
}

// InChina reports whether a point lies in the rough bounding box where the
// GCJ-02 offset applies.
func InChina(lat, lon float64) bool {
	return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271
}

const (
	axis = 6378245.0
	ee   = 0.00669342162296594323
)

// ToGCJ02 converts WGS-84 to GCJ-02 (for tiles that need it).
func ToGCJ02(lat, lon float64) (float64, float64) {
	if !InChina(lat, lon) {
		return lat, lon
	}
	dLat := transformLat(lon-105.0, lat-35.0)
	dLon := transformLon(lon-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - ee*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((axis * (1 - ee)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (axis / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lat + dLat, lon + dLon
}

// FromGCJ02 converts GCJ-02 to WGS-84 by iterating the forward transform.
func FromGCJ02(lat, lon float64) Point {
	if !InChina(lat, lon) {
		return Point{lat, lon}
	}
	wLat, wLon := lat, lon
	for i := 0; i < 30; i++ {
		gLat, gLon := ToGCJ02(wLat, wLon)
		dLat, dLon := gLat-lat, gLon-lon
		wLat, wLon = wLat-dLat, wLon-dLon
		if math.Abs(dLat) < 1e-9 && math.Abs(dLon) < 1e-9 {
			break
		}
	}
	return Point{wLat, wLon}
}

const xPi = math.Pi * 3000.0 / 180.0

func bd09ToGCJ02(lat, lon float64) (float64, float64) {
	x, y := lon-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*xPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*xPi)
	return z * math.Sin(theta), z * math.Cos(theta)
}

func transformLat(x, y float64) float64 {
	r := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	r += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return r
}

func transformLon(x, y float64) float64 {
	r := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	r += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return r
}
