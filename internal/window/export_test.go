package window

import "time"

// SetNow fixes the service's clock in tests.
func SetNow(s *Service, now func() time.Time) { s.now = now }
