package tabular

import (
	"bytes"
	"io"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// drain reads at most limit rows and checks the Reader's contract.
func drain(t *testing.T, r Reader, limit int) {
	width := len(r.Header())
	for i := 0; i < limit; i++ {
		row, line, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil && !IsRowError(err) {
			if _, _, err2 := r.Next(); err2 == nil || err2 == io.EOF {
				t.Fatalf("fatal error %v not sticky: %v", err, err2)
			}
			return
		}
		if line <= 0 {
			t.Fatalf("line %d", line)
		}
		if len(row) < width {
			t.Fatalf("row %q shorter than header %q", row, r.Header())
		}
		if !nonEmpty(row) {
			t.Fatalf("empty row returned at line %d", line)
		}
	}
}

func FuzzCSV(f *testing.F) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(registryCSV))
	for _, s := range [][]byte{
		[]byte(registryCSV), gbk, append([]byte("\xEF\xBB\xBF"), registryCSV...),
		[]byte("a\tb\n1\t2\t3\n"), []byte("\"a\"\"b\",c\r\n\"x\ny\",z"), []byte("\"unclosed\n1,2"),
		[]byte("\xFF\xFEa\x00,\x00b\x00\n\x001\x00"), []byte("a;b;c\n;;\n1;2"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer r.Close()
		drain(t, r, 100000)
	})
}

func FuzzXLSX(f *testing.F) {
	var buf bytes.Buffer
	w := NewXLSXWriter(&buf, "名册")
	_ = w.WriteHeader([]string{"姓名", "公民身份号码"})
	_ = w.Write([]any{"张三", "320205199001011234"})
	_ = w.Write([]any{"李四", 42, 3.5, true, nil})
	_ = w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenXLSX(bytes.NewReader(data), "")
		if err != nil {
			return
		}
		defer r.Close()
		drain(t, r, 10000)
	})
}
