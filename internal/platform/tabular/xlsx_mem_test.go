package tabular

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ledgerRow is a synthetic row shaped like the registry's 户籍人口台账 (19
// columns: numbers, short labels, masked identifiers, names, addresses).
func ledgerRow(i int) []any {
	return []any{i, "居民" + strconv.Itoa(i%9973), []string{"男", "女"}[i%2], fmt.Sprintf("19%02d-%02d-%02d", 40+i%60, 1+i%12, 1+i%28), 20 + i%70, "汉族",
		fmt.Sprintf("320205********%04d", i%10000), fmt.Sprintf("138****%04d", (i*7)%10000), "户籍人口", "子女",
		fmt.Sprintf("%010d", 1052080000+i/3), "东湖塘社区居民委员会", fmt.Sprintf("第%d网格", 1+i%12),
		fmt.Sprintf("东港镇 东湖塘社区 %d幢%d室", 1+i%40, 101+i%1800), "群众", "高中", "在业", []string{"", "低保对象", "残疾人(二级);独居老人"}[i%3], "2010-01-01"}
}

// peakKB is the process's peak resident set (VmHWM) in KiB, 0 off Linux.
func peakKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// TestXLSXWriterMemory streams SHEQU_XLSX_ROWS synthetic ledger rows
// through the XLSX writer into a file, without a database, and reports the
// peak resident set of the process (VmHWM, reset before the rows) and the
// largest Go heap seen. It is a measurement, run by hand:
//
//	SHEQU_XLSX_ROWS=1000000 go test -run TestXLSXWriterMemory -v ./internal/platform/tabular/
func TestXLSXWriterMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SHEQU_XLSX_ROWS"))
	if n <= 0 {
		t.Skip("set SHEQU_XLSX_ROWS")
	}
	path := filepath.Join(t.TempDir(), "ledger.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	base := peakKB()
	var heapPeak uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		heapPeak = max(heapPeak, m.HeapInuse)
	}
	start := time.Now()
	w := NewXLSXWriter(f, "户籍人口台账")
	header := make([]string, 19)
	for i := range header {
		header[i] = "列" + strconv.Itoa(i+1)
	}
	if err := w.WriteHeader(header); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := w.Write(ledgerRow(i)); err != nil {
			t.Fatal(err)
		}
		if i%50_000 == 0 {
			sample()
		}
	}
	rowsDone := time.Since(start)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sample()
	secs := time.Since(start).Seconds()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rows=%d secs=%.2f (rows %.2f, close %.2f) file=%.1f MiB peak_rss=%d MiB (base %d MiB) heap_inuse_peak=%d MiB",
		n, secs, rowsDone.Seconds(), secs-rowsDone.Seconds(), float64(st.Size())/(1<<20), peakKB()/1024, base/1024, heapPeak>>20)
	fmt.Printf("BENCH step=xlsx_writer rows=%d secs=%.3f bytes=%d peak_kb=%d base_kb=%d heap_peak_kb=%d\n",
		n, secs, st.Size(), peakKB(), base, heapPeak>>10)
}

// maxWriteWriter records the largest single Write.
type maxWriteWriter struct{ n, max int }

func (m *maxWriteWriter) Write(p []byte) (int, error) {
	m.n += len(p)
	m.max = max(m.max, len(p))
	return len(p), nil
}

// TestXLSXWriterStreams: the workbook reaches the writer in pieces as it is
// compressed, never as one buffer of the whole file (which is what held
// 2–3 times the file in memory before).
func TestXLSXWriterStreams(t *testing.T) {
	var out maxWriteWriter
	w := NewXLSXWriter(&out, "台账")
	if err := w.WriteHeader([]string{"序号", "姓名"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10_000; i++ {
		if err := w.Write(ledgerRow(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.n < 512<<10 || out.max > 128<<10 {
		t.Fatalf("%d bytes written, the largest write %d bytes", out.n, out.max)
	}
}
