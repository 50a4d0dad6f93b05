package grid_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// uplPhoto is size bytes that sniff as JPEG, with a marker that must never
// appear in the data directory in plain.
func uplPhoto(t *testing.T, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, jpeg[:11])
	copy(b[100:], "PLAIN-PHOTO-MARKER")
	return b
}

// uplSend appends data in chunks of n from offset 0.
func (f *fixture) uplSend(id string, data []byte, n int) grid.Upload {
	f.t.Helper()
	var u grid.Upload
	for off := 0; off < len(data); off += n {
		var err error
		u, err = f.svc.AppendUpload(f.ctx, f.workerA1, id, int64(off), data[off:min(off+n, len(data))])
		if err != nil {
			f.t.Fatalf("append at %d: %v", off, err)
		}
	}
	return u
}

func (f *fixture) uplPath(id string) string {
	return filepath.Join(f.svc.Files.Dir, "uploads", id+".part")
}

func TestUploadProtocol(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		photo := uplPhoto(t, 300<<10)

		// announcing: size and type are checked
		_, err := f.svc.CreateUpload(f.ctx, f.workerA1, grid.MaxPhoto+1, "image/jpeg")
		wantFieldError(t, err, "size:upload_size")
		_, err = f.svc.CreateUpload(f.ctx, f.workerA1, 0, "")
		wantFieldError(t, err, "size:upload_size")
		_, err = f.svc.CreateUpload(f.ctx, f.workerA1, 100, "application/pdf")
		wantFieldError(t, err, "type:upload_type")
		if _, err := f.svc.CreateUpload(f.ctx, f.viewer, 100, ""); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("a viewer uploads: %v", err)
		}

		u, err := f.svc.CreateUpload(f.ctx, f.workerA1, int64(len(photo)), "image/jpeg")
		if err != nil {
			t.Fatal(err)
		}
		if len(u.ID) != 26 || !grid.ValidUploadID(u.ID) || u.Received != 0 {
			t.Fatalf("new upload %+v", u)
		}

		// the first chunk
		u, err = f.svc.AppendUpload(f.ctx, f.workerA1, u.ID, 0, photo[:128<<10])
		if err != nil || u.Received != 128<<10 {
			t.Fatalf("first chunk: %+v %v", u, err)
		}
		// a chunk at the wrong offset (a retry of the first one) says where to go on
		var oe *grid.OffsetError
		if _, err := f.svc.AppendUpload(f.ctx, f.workerA1, u.ID, 0, photo[:128<<10]); !errors.As(err, &oe) || oe.Offset != 128<<10 {
			t.Fatalf("offset mismatch: %v", err)
		}
		if _, err := f.svc.AppendUpload(f.ctx, f.workerA1, u.ID, 200<<10, photo[200<<10:]); !errors.As(err, &oe) || oe.Offset != 128<<10 {
			t.Fatalf("offset ahead: %v", err)
		}
		// another user sees nothing
		if _, err := f.svc.AppendUpload(f.ctx, f.workerA2, u.ID, 128<<10, photo[128<<10:]); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another worker appends: %v", err)
		}
		if _, err := f.svc.UploadStatus(f.ctx, f.workerA2, u.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another worker's status: %v", err)
		}
		if _, err := f.svc.TakeUpload(f.ctx, f.workerA2.UserID, u.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another worker takes: %v", err)
		}
		if err := f.svc.DeleteUpload(f.ctx, f.workerA2, u.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another worker deletes: %v", err)
		}
		// not complete yet
		if _, err := f.svc.TakeUpload(f.ctx, f.workerA1.UserID, u.ID); !errors.Is(err, grid.ErrUploadIncomplete) {
			t.Fatalf("take incomplete: %v", err)
		}
		// too big a chunk, and past the announced size
		if _, err := f.svc.AppendUpload(f.ctx, f.workerA1, u.ID, u.Received, make([]byte, grid.MaxChunk+1)); !errors.Is(err, grid.ErrChunkTooLarge) {
			t.Fatalf("chunk over the limit: %v", err)
		}
		_, err = f.svc.AppendUpload(f.ctx, f.workerA1, u.ID, u.Received, append(append([]byte{}, photo[u.Received:]...), 'x'))
		wantFieldError(t, err, "size:upload_overflow")

		// resume: the status says where, the rest follows
		st, err := f.svc.UploadStatus(f.ctx, f.workerA1, u.ID)
		if err != nil || st.Received != 128<<10 || st.Size != int64(len(photo)) {
			t.Fatalf("status %+v %v", st, err)
		}
		for off := st.Received; off < int64(len(photo)); off += 100 << 10 {
			if u, err = f.svc.AppendUpload(f.ctx, f.workerA1, u.ID, off, photo[off:min(off+100<<10, int64(len(photo)))]); err != nil {
				t.Fatal(err)
			}
		}
		if !u.Complete() {
			t.Fatalf("not complete: %+v", u)
		}

		// sealed on disk, readable only by the owner
		raw, err := os.ReadFile(f.uplPath(u.ID))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("PLAIN-PHOTO-MARKER")) {
			t.Fatal("the upload is stored in plain")
		}
		if info, _ := os.Stat(f.uplPath(u.ID)); info.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", info.Mode().Perm())
		}

		got, err := f.svc.TakeUpload(f.ctx, f.workerA1.UserID, u.ID)
		if err != nil || !bytes.Equal(got, photo) {
			t.Fatalf("take: %d bytes, %v", len(got), err)
		}
		// taking does not use it up: a failed report retries with it
		if _, err := f.svc.TakeUpload(f.ctx, f.workerA1.UserID, u.ID); err != nil {
			t.Fatalf("take again: %v", err)
		}
		if err := f.svc.DoneUpload(f.ctx, f.workerA1.UserID, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.TakeUpload(f.ctx, f.workerA1.UserID, u.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("take a used upload: %v", err)
		}
		if _, err := os.Stat(f.uplPath(u.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the used upload's file is still there: %v", err)
		}

		// the first chunk must look like a photo
		bad, err := f.svc.CreateUpload(f.ctx, f.workerA1, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.AppendUpload(f.ctx, f.workerA1, bad.ID, 0, bytes.Repeat([]byte("not a photo "), 8))
		wantFieldError(t, err, "type:upload_type")
		if st, _ := f.svc.UploadStatus(f.ctx, f.workerA1, bad.ID); st.Received != 0 {
			t.Fatalf("a refused chunk was counted: %+v", st)
		}
	})
}

func TestUploadSurvivesBrokenWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		photo := uplPhoto(t, 200<<10)
		u, err := f.svc.CreateUpload(f.ctx, f.workerA1, int64(len(photo)), "")
		if err != nil {
			t.Fatal(err)
		}
		f.uplSend(u.ID, photo[:64<<10], 64<<10)

		// a record written by an append whose transaction then failed: cut off
		fh, err := os.OpenFile(f.uplPath(u.ID), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fh.Write([]byte{0, 0, 0, 9, 0, 0, 0, 4, 'j', 'u', 'n', 'k'}); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		if _, err := f.svc.AppendUpload(f.ctx, f.workerA1, u.ID, 64<<10, photo[64<<10:]); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.TakeUpload(f.ctx, f.workerA1.UserID, u.ID); err != nil || !bytes.Equal(got, photo) {
			t.Fatalf("after a stray record: %d bytes, %v", len(got), err)
		}

		// a lost file: the phone is told to start again from 0
		v, err := f.svc.CreateUpload(f.ctx, f.workerA1, int64(len(photo)), "")
		if err != nil {
			t.Fatal(err)
		}
		f.uplSend(v.ID, photo[:100<<10], 100<<10)
		if err := os.Remove(f.uplPath(v.ID)); err != nil {
			t.Fatal(err)
		}
		var oe *grid.OffsetError
		if _, err := f.svc.AppendUpload(f.ctx, f.workerA1, v.ID, 100<<10, photo[100<<10:]); !errors.As(err, &oe) || oe.Offset != 0 {
			t.Fatalf("lost file: %v", err)
		}
		f.uplSend(v.ID, photo, 128<<10)
		if got, err := f.svc.TakeUpload(f.ctx, f.workerA1.UserID, v.ID); err != nil || !bytes.Equal(got, photo) {
			t.Fatalf("after starting again: %d bytes, %v", len(got), err)
		}
	})
}

func TestUploadLimitsAndPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var first grid.Upload
		for i := 0; i < grid.MaxPendingUploads; i++ {
			u, err := f.svc.CreateUpload(f.ctx, f.workerA1, 1000, "")
			if err != nil {
				t.Fatalf("upload %d: %v", i, err)
			}
			if i == 0 {
				first = u
				f.uplSend(u.ID, uplPhoto(t, 1000), 1000)
			}
		}
		if _, err := f.svc.CreateUpload(f.ctx, f.workerA1, 1000, ""); !errors.Is(err, grid.ErrTooManyUploads) {
			t.Fatalf("one too many: %v", err)
		}
		// another worker has a cap of their own
		other, err := f.svc.CreateUpload(f.ctx, f.workerA2, 1000, "")
		if err != nil {
			t.Fatal(err)
		}
		// a used upload frees its place
		if err := f.svc.DoneUpload(f.ctx, f.workerA1.UserID, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateUpload(f.ctx, f.workerA1, 1000, ""); err != nil {
			t.Fatalf("after one was used: %v", err)
		}

		// an orphan file (its row lost in a crash), old enough to go
		orphan := filepath.Join(f.svc.Files.Dir, "uploads", "abcdefghijklmnopqrstuvwxyz.part")
		if err := os.WriteFile(orphan, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := f.now.Add(-25 * time.Hour)
		if err := os.Chtimes(orphan, old, old); err != nil {
			t.Fatal(err)
		}

		// a day later everything goes; nothing younger does
		if err := f.svc.PurgeUploads(f.ctx, grid.UploadTTL); err != nil {
			t.Fatal(err)
		}
		if n := f.count(`SELECT count(*) FROM uploads`); n != grid.MaxPendingUploads+2 {
			t.Fatalf("purged too early: %d left", n)
		}
		if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the orphan file is still there: %v", err)
		}
		f.now = f.now.Add(25 * time.Hour)
		if err := f.svc.PurgeUploads(f.ctx, grid.UploadTTL); err != nil {
			t.Fatal(err)
		}
		if n := f.count(`SELECT count(*) FROM uploads`); n != 0 {
			t.Fatalf("%d uploads left after the purge", n)
		}
		if _, err := f.svc.UploadStatus(f.ctx, f.workerA2, other.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("a purged upload: %v", err)
		}
		left, _ := os.ReadDir(filepath.Join(f.svc.Files.Dir, "uploads"))
		if len(left) != 0 {
			t.Fatalf("files left after the purge: %v", left)
		}
	})
}
