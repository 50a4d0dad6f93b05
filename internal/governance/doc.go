// Package governance is democratic self-governance (NH-2, SX-1–SX-4,
// DG-2–DG-5, DG-7, NT-7): the bodies of a village (party branch, village or
// residents' committee, council, management committee, representatives'
// meeting, supervision committee, villager groups) with their members,
// posts and terms; their meetings with attendance, proxies, quorum, votes,
// resolutions and minutes; matters (议事事项) through the pack's staged
// procedure (Sha county's 五议, Dongguan's five steps, Nantong's majority
// rule) and their implementation (四步) and year-end rating; annual work
// goals; elections with the voter roll built from the registry; and
// versioned documents (charters, village rules, covenants) each adopted at
// a meeting.
//
// The pack (governance.yaml, internal/platform/policy/governance.go)
// supplies the numbers and names; this package supplies the mechanisms:
// a quorum and a majority are computed from the recorded attendance and
// votes (tally.go), never typed in, and a matter moves only through the
// stages its procedure lists, in order (procedure.go).
//
// Files: doc.go; service.go (the Service, permissions, facts); tally.go
// (quorum and majority arithmetic); bodies.go, meetings.go, matters.go,
// procedure.go, implementation.go, elections.go, documents.go (model and
// operations of each part); store_*.go (SQL); http_*.go and templates/gov_*.html
// (the pages); public.go (what the public portal, internal/disclosure,
// reads).
package governance
