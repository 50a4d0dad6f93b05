package registry

import (
	"context"
	"fmt"
	"math"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// earthRadius is the mean Earth radius in metres (IUGG).
const earthRadius = 6_371_008.8

// distance is the great-circle distance in metres between two WGS-84 points
// (haversine; the spherical error, under 0.5 %, does not matter at a few
// kilometres).
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

// NearestVillage returns the village of the household nearest to the WGS-84
// point (lat, lon) among the households with a point within maxMeters, or
// db.ErrNotFound when there is none. It is not scoped: it tells where a
// place is (Open311 uses it to route a request to a village), never who
// lives there.
//
// The search looks in growing bounding boxes (a few hundred metres, then
// wider, up to maxMeters), each one range query on the households' points,
// and measures the exact distance of the candidates; a hit no farther than
// the box's radius is the nearest overall, since every closer point lies in
// the box too.
func (s *Service) NearestVillage(ctx context.Context, lat, lon float64, maxMeters float64) (int64, error) {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return 0, fmt.Errorf("registry: coordinates out of range: %v, %v", lat, lon)
	}
	if !(maxMeters > 0) || math.IsInf(maxMeters, 0) {
		return 0, db.ErrNotFound
	}
	radii := []float64{}
	for r := 250.0; r < maxMeters; r *= 4 {
		radii = append(radii, r)
	}
	radii = append(radii, maxMeters)
	for _, r := range radii {
		village, d, err := s.nearestIn(ctx, lat, lon, r)
		if err != nil {
			return 0, err
		}
		if village != 0 && d <= r {
			return village, nil
		}
	}
	return 0, db.ErrNotFound
}

// nearestIn returns the village and distance of the nearest household in
// the bounding box of radius r around the point (0 when the box is empty).
func (s *Service) nearestIn(ctx context.Context, lat, lon, r float64) (int64, float64, error) {
	// a degree of latitude is at least 110,574 m; a degree of longitude
	// shrinks with the cosine of the latitude (the box's far edge, to be safe)
	dLat := r/110_574 + 1e-6
	edge := math.Min(89.9, math.Abs(lat)+dLat)
	dLon := math.Min(180, r/(111_320*math.Cos(edge*math.Pi/180))+1e-6)
	rows, err := s.DB.Query(ctx, `SELECT village, lat, lon FROM households
		WHERE lat >= ? AND lat <= ? AND lon >= ? AND lon <= ?`, lat-dLat, lat+dLat, lon-dLon, lon+dLon)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	best, bestD := int64(0), math.Inf(1)
	for rows.Next() {
		var v int64
		var hLat, hLon float64
		if err := rows.Scan(&v, &hLat, &hLon); err != nil {
			return 0, 0, err
		}
		if d := distance(lat, lon, hLat, hLon); d < bestD || d == bestD && v < best {
			best, bestD = v, d
		}
	}
	return best, bestD, rows.Err()
}

// Geocoded reports whether any household of the subtree [lo, hi] has a
// point: where none has, a position cannot be checked against the
// subtree's extent.
func (s *Service) Geocoded(ctx context.Context, lo, hi int64) (bool, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM households
		WHERE village BETWEEN ? AND ? AND lat IS NOT NULL LIMIT 1) x`, lo, hi).Scan(&n)
	return n > 0, err
}
