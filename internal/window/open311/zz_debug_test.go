package open311_test

import (
	"net/url"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestZZDebug(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	for _, p := range []string{"/open311/discovery.xml", "/open311/v2/services.xml", "/open311/v2/services/T-REPAIR.xml", "/open311/v2/services/T-REPAIR.json?locale=en"} {
		t.Logf("%s\n%s", p, f.get(p))
	}
	v := repair(f.key)
	t.Logf("%s", f.post("/open311/v2/requests.xml", v))
	v.Set("attribute[count]", "x"); v.Set("attribute[appliance]", "car"); v.Del("phone")
	t.Logf("%s", f.post("/open311/v2/requests.json", v))
	v.Set("phone", "139123"); 
	t.Logf("%s", f.post("/open311/v2/requests.xml", v))
	v = repair(f.key); v.Del("first_name"); v.Del("last_name"); v.Set("description", "")
	t.Logf("%s", f.post("/open311/v2/requests.json", v))
	t.Logf("%s", f.get("/open311/v2/requests.xml"))
	t.Logf("%s", f.get("/open311/v2/requests.json"))
	_ = url.Values{}
}
