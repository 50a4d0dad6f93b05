package policy

// seedIDs is the list of seed rule ids, copied from /work/shared/seeds/README.md
// (the "- XX-n" bullets; 60 ids, README sha256 ec19916c…71bb90068) with:
//
//	grep -oE '^- (NH|DG|XS|SX|NT)-[0-9]+' shared/seeds/README.md | sed 's/^- //'
//
// Regenerate it when the README gains rules; TestSeedIDsMatchReadme checks
// the copy against the README when the shared directory is present.
var seedIDs = []string{
	"NH-1", "NH-2", "NH-3", "NH-4", "NH-5", "NH-6", "NH-7", "NH-8", "NH-9", "NH-10", "NH-11",
	"DG-1", "DG-2", "DG-3", "DG-4", "DG-5", "DG-6", "DG-7", "DG-8", "DG-9", "DG-10", "DG-11", "DG-12", "DG-13", "DG-14", "DG-15", "DG-16", "DG-17", "DG-18", "DG-19", "DG-20",
	"XS-1", "XS-2", "XS-3", "XS-4", "XS-5", "XS-6", "XS-7", "XS-8", "XS-9", "XS-10", "XS-11", "XS-12",
	"SX-1", "SX-2", "SX-3", "SX-4", "SX-5", "SX-6", "SX-7", "SX-8", "SX-9",
	"NT-1", "NT-2", "NT-3", "NT-4", "NT-5", "NT-6", "NT-7", "NT-8",
}

var knownSeedIDs = func() map[string]bool {
	m := make(map[string]bool, len(seedIDs))
	for _, id := range seedIDs {
		m[id] = true
	}
	return m
}()
