// Package policypacks holds the policy packs shipped with Shequ, as data: one
// directory per pack (pack.yaml plus optional section files), loaded and
// validated by internal/platform/policy. See docs/policy-packs.md.
package policypacks

import "embed"

// FS holds every pack directory: <pack>/pack.yaml and its section files.
// Load it with policy.Load(policypacks.FS).
//
//go:embed */*.yaml
var FS embed.FS
