package api_test

import (
	"io/fs"
	"net/http"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// packsUnder loads the shipped packs with xishan-2008's governance.yaml
// replaced by pack's, so the test jurisdiction runs that pack's procedure.
func packsUnder(t *testing.T, pack string) *policy.Set {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policypacks.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policypacks.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m["xishan-2008/governance.yaml"] = m[pack+"/governance.yaml"]
	set, err := policy.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestEveryPackThroughTheAPI runs each shipped pack's procedure end to end
// through the API alone: the bodies its meeting stages need, a residents'
// proposal, at every meeting stage a meeting with its attendance, the
// matter on its agenda and a counted vote, then the implementation steps,
// a resident's rating and the evaluation.
func TestEveryPackThroughTheAPI(t *testing.T) {
	for _, pack := range []string{"shaxian-2012", "dongguan-2016", "nantong-2011", "nanhai-2009", "xishan-2008"} {
		t.Run(pack, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				packs := packsUnder(t, pack)
				e := setupMattersWith(t, d, packs)
				rules := packs.For(village1).Governance
				pr, _ := rules.Procedure("")
				bodies := map[string]string{"committee": strconv.FormatInt(e.committee.ID, 10),
					"representatives": strconv.FormatInt(e.representatives.ID, 10)}
				// the bodies of the other meeting stages, with members, through the API
				for _, st := range pr.Stages {
					if st.Kind != policy.StageMeeting || bodies[st.Body] != "" {
						continue
					}
					r := e.do(t, "POST", "/api/v1/bodies", "village1", `{"unit":"320205001001","kind":"`+st.Body+`","term_start":"2025-01-01"}`)
					wantStatus(t, r, http.StatusCreated)
					id := strconv.FormatFloat(r.body["id"].(float64), 'f', 0, 64)
					for _, res := range e.residents[:3] {
						r = e.do(t, "POST", "/api/v1/bodies/"+id+"/members", "village1", `{"resident_id":`+strconv.FormatInt(res, 10)+`}`)
						wantStatus(t, r, http.StatusCreated)
					}
					bodies[st.Body] = id
				}
				r := e.do(t, "POST", "/api/v1/matters", "village1", body(t, map[string]any{"village": "320205001001",
					"title": "硬化东巷道路", "description": "东巷雨天泥泞。", "proposer": "residents", "proposer_name": "张一",
					"signatures": max(pr.Stages[0].Signatures, 1), "budget": "80000"}))
				wantStatus(t, r, http.StatusCreated)
				number := r.body["number"].(string)
				if r.body["procedure"] != pr.Key {
					t.Fatalf("procedure %v, want %s", r.body["procedure"], pr.Key)
				}
				for i, st := range pr.Stages[1:] {
					r = e.do(t, "GET", "/api/v1/matters/"+number, "village1", "")
					if r.body["stage"] != st.Key || r.body["status"] != "open" {
						t.Fatalf("before stage %d: %s", i+1, r.raw)
					}
					switch st.Kind {
					case policy.StageMeeting:
						e.apiVote(t, bodies[st.Body], r.body["id"].(float64))
					case policy.StageImplement:
						for _, step := range []string{`{"kind":"assign","responsible":"村委会","due":"2026-12-31"}`,
							`{"kind":"implement","note":"路基完成","percent":60,"spent":"30000"}`,
							`{"kind":"complete","note":"完工","spent":"45000"}`} {
							wantStatus(t, e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", step), 200)
						}
					case policy.StageEvaluate:
						if err := e.svc.Rate(e.ctx, village1, number, "phone-1", 5, ""); err != nil {
							t.Fatal(err)
						}
						wantStatus(t, e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"evaluate"}`), 200)
					}
				}
				r = e.do(t, "GET", "/api/v1/matters/"+number, "viewer1", "")
				if r.body["status"] != "done" || r.body["spent"] != "75000.00" {
					t.Fatalf("%s: not done: %s", pack, r.raw)
				}
			})
		})
	}
}

// apiVote holds a meeting of body today through the API: everyone present,
// the matter on the agenda, a unanimous counted vote that passes.
func (e *matterEnv) apiVote(t *testing.T, bodyID string, matterID float64) {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/meetings", "village1", `{"body_id":`+bodyID+`,"day":"2026-09-30"}`)
	wantStatus(t, r, http.StatusCreated)
	mid := strconv.FormatFloat(r.body["id"].(float64), 'f', 0, 64)
	r = e.do(t, "GET", "/api/v1/bodies/"+bodyID, "village1", "")
	wantStatus(t, r, 200)
	var att []map[string]any
	for _, m := range r.body["members"].([]any) {
		att = append(att, map[string]any{"member_id": m.(map[string]any)["id"], "status": "present"})
	}
	wantStatus(t, e.do(t, "PUT", "/api/v1/meetings/"+mid+"/attendance", "village1", body(t, map[string]any{"attendance": att})), 200)
	r = e.do(t, "POST", "/api/v1/meetings/"+mid+"/agenda", "village1", body(t, map[string]any{"title": "表决事项", "matter_id": matterID}))
	wantStatus(t, r, http.StatusCreated)
	item := strconv.FormatFloat(r.body["id"].(float64), 'f', 0, 64)
	r = e.do(t, "POST", "/api/v1/meetings/"+mid+"/agenda/"+item+"/votes", "village1",
		body(t, map[string]any{"counted": true, "for": len(att), "resolution": "同意。"}))
	wantStatus(t, r, http.StatusCreated)
	if r.body["result"] != "passed" {
		t.Fatalf("vote: %s", r.raw)
	}
}
