package registry

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
)

// Job kinds of the registry.
const (
	JobImport = "registry.import"
	JobExport = "registry.export"
)

// ReportFile is the name of an import's error report.
const ReportFile = "errors.xlsx"

// JobKinds are the registry's background jobs, for the runner.
func (s *Service) JobKinds() []jobs.Kind {
	return []jobs.Kind{
		{Name: JobImport, Title: "registry.job.import", Fn: s.importJob, Resumable: true, ViewPerm: "resident.import"},
		{Name: JobExport, Title: "registry.job.export", Fn: s.exportJob, Resumable: false, ViewPerm: "resident.export"},
	}
}

func (s *Service) importJob(ctx context.Context, run *jobs.Run) error {
	var params ImportParams
	if err := json.Unmarshal(run.Job.Params, &params); err != nil {
		return err
	}
	loc := params.locale()
	p := access.From(ctx)
	res, err := s.RunImport(ctx, p, run.Job.ID, run.Input(), params, run)
	var missing *ErrMissingColumns
	if errors.As(err, &missing) {
		names := make([]string, len(missing.Fields))
		for i, f := range missing.Fields {
			names[i] = i18n.T(loc, "registry.field."+f)
		}
		return errors.New(i18n.T(loc, "registry.import.missing_columns", strings.Join(names, "、")))
	}
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		if err := s.writeReport(ctx, run, loc); err != nil {
			return err
		}
	}
	imported := int64(0)
	if res.Imported {
		imported = 1
	}
	return run.SetResult(map[string]int64{"rows": int64(res.Rows), "created": int64(res.Created), "updated": int64(res.Updated),
		"unchanged": int64(res.Unchanged), "failed": int64(res.Failed), "imported": imported})
}

// Locale of the reports written for these params (the submitter's).
func (p ImportParams) locale() string {
	if i18n.Valid(p.Locale) {
		return p.Locale
	}
	return i18n.Default
}

// writeReport writes the refused rows of an import as an XLSX workbook:
// the original header and cells, then the line number and the reasons.
func (s *Service) writeReport(ctx context.Context, run *jobs.Run, loc string) error {
	var header []string
	if rd, err := tabular.Open(run.Input()); err == nil {
		header = rd.Header()
		rd.Close()
	}
	f, err := os.Create(run.Path(ReportFile))
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tabular.NewXLSXWriter(f, i18n.T(loc, "registry.import.report_sheet"))
	if err := tw.WriteHeader(append(append([]string{}, header...), i18n.T(loc, "registry.import.report_line"), i18n.T(loc, "registry.import.report_reason"))); err != nil {
		return err
	}
	err = s.RowErrors(ctx, run.Job.ID, func(line int, reason Errors, cells []string) error {
		row := make([]any, 0, len(header)+2)
		for i := range max(len(header), len(cells)) {
			if i < len(cells) {
				row = append(row, cells[i])
			} else {
				row = append(row, "")
			}
		}
		row = append(row, line, DescribeErrors(loc, reason))
		return tw.Write(row)
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return run.AddFile(ReportFile, "registry.import.report")
}

// importErrorCodes are the codes only an import produces.
var importErrorCodes = []string{"status_import", "division_outside", "division_ambiguous", "id_duplicate_in_file",
	"id_registered_elsewhere", "resident_not_present", "row_short", "row_long", "row_encoding", "row_invalid"}

// DescribeErrors writes a row's problems for people: 身份证号：校验码错误；性别：….
func DescribeErrors(loc string, es Errors) string {
	parts := make([]string, len(es))
	for i, e := range es {
		key := webErrorKey(e.Field, e.Code)
		if slices.Contains(importErrorCodes, e.Code) {
			key = "registry.error." + e.Code
		}
		parts[i] = i18n.T(loc, "registry.field."+e.Field) + i18n.T(loc, "registry.import.colon") + i18n.T(loc, key)
	}
	return strings.Join(parts, i18n.T(loc, "registry.import.separator"))
}

func (s *Service) exportJob(ctx context.Context, run *jobs.Run) error {
	var ep ExportParams
	if err := json.Unmarshal(run.Job.Params, &ep); err != nil {
		return err
	}
	p := access.From(ctx)
	unit := strconv.FormatInt(ep.Division, 10)
	if d, err := s.Divisions.Get(ctx, ep.Division); err == nil {
		unit = d.Name
	}
	name := ExportFileName(ep.Locale, ep, unit)
	f, err := os.Create(run.Path(name))
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := s.Export(ctx, p, ep, f, func(done, total int64) { run.Progress(done, total, "") })
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := run.AddFile(name, "registry.export.file"); err != nil {
		return err
	}
	run.Progress(n, n, "")
	return run.SetResult(map[string]int64{"exported": n})
}
