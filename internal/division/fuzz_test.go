package division_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
)

// FuzzImport feeds arbitrary bytes to the import's reader and validator
// (no database): it must never panic, and its result must be consistent.
func FuzzImport(f *testing.F) {
	src, err := os.ReadFile(xishan)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	f.Add(src[:len(src)/2])
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(src[:2000])
	zw.Close()
	f.Add(gz.Bytes())
	f.Add(gz.Bytes()[:20])
	for _, s := range []string{
		"",
		"code,name,level,parent_code,urban_rural_code\n",
		"\xef\xbb\xbfcode,name,level,parent_code\n320000000000,江苏省,1,\n",
		"code,name,level,parent_code\n320200000000,无锡市,2,320000000000\n320000000000,江苏省,1,\n",
		"code,name,level,parent_code,urban_rural_code\n320000000000,\"江\"\"苏\",1,,\n320000000000,x,1,,\n",
		"code,name,level,parent_code\n\"320000000000,x,1,\n",
		"code,name,level,parent_code\n653130103001,三岔口镇,4,653130000000\n",
		"level,code,parent_code,name\n9,999999999999,999999999999,\xff\n",
		"code\r\nname\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := division.Import(context.Background(), nil, bytes.NewReader(data), division.ImportOptions{DryRun: true, MaxErrors: 5})
		switch {
		case err == nil:
			if res.ErrorCount != 0 || len(res.Errors) != 0 || res.Inserted != res.Rows {
				t.Fatalf("success with %+v", res)
			}
		case errors.Is(err, division.ErrInvalid):
			if res.ErrorCount == 0 || len(res.Errors) == 0 {
				t.Fatalf("ErrInvalid without errors: %+v", res)
			}
		}
		if len(res.Errors) > 5 || len(res.Errors) > res.ErrorCount || len(res.Warnings) > 5 || len(res.Warnings) > res.WarningCount {
			t.Fatalf("caps: %+v", res)
		}
		for i, e := range res.Errors {
			if e.Line < 1 || e.Reason == "" || e.Detail == "" || (i > 0 && e.Line < res.Errors[i-1].Line) {
				t.Fatalf("error %d: %+v", i, e)
			}
		}
	})
}
