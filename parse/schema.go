package parse

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/nsys-gate/gate/parse/internal/sqlread"
)

// Tables gate reads. Only the GPU activity tables are needed for a summary;
// the others are optional and their absence becomes a warning or an empty
// field.
const (
	tKernel     = "CUPTI_ACTIVITY_KIND_KERNEL"
	tMemcpy     = "CUPTI_ACTIVITY_KIND_MEMCPY"
	tMemset     = "CUPTI_ACTIVITY_KIND_MEMSET"
	tGraphTrace = "CUPTI_ACTIVITY_KIND_GRAPH_TRACE"
	tRuntime    = "CUPTI_ACTIVITY_KIND_RUNTIME"
	tNVTX       = "NVTX_EVENTS"
	tStrings    = "StringIds"
	tMeta       = "META_DATA_EXPORT"
	tGPU        = "TARGET_INFO_GPU"
	tSystemEnv  = "TARGET_INFO_SYSTEM_ENV"
	tCopyKinds  = "ENUM_CUDA_MEMCPY_OPER"
)

// sqliteMagic starts every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// schema is what one export holds: its tables and, once asked, their
// columns, read on the main connection. Big tables are scanned on further
// connections (conn), one per goroutine.
type schema struct {
	path    string
	size    int64 // file size in bytes
	db      *sqlread.Conn
	tables  map[string]bool
	columns map[string]map[string]bool
}

// openExport opens path read-only and immutable (an export is never written
// while gate reads it, and immutable skips locking) after checking that it is
// an SQLite file at all, so that the common mistakes give a plain error.
func openExport(ctx context.Context, path string) (*schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n < len(sqliteMagic) || !bytes.Equal(head[:len(sqliteMagic)], sqliteMagic) {
		return nil, errors.New("not an SQLite database (want an Nsight Systems export: nsys export --type sqlite)")
	}
	if n < 100 {
		return nil, errors.New("truncated SQLite file (shorter than its header)")
	}
	size, err := checkSize(path, head)
	if err != nil {
		return nil, err
	}
	s := &schema{path: path, size: size, columns: map[string]map[string]bool{}}
	if s.db, err = s.conn(); err != nil {
		return nil, err
	}
	if s.tables, err = s.db.Tables(ctx); err != nil {
		s.db.Close()
		return nil, sqliteErr(err)
	}
	return s, nil
}

// conn opens another connection to the export, for one goroutine.
func (s *schema) conn() (*sqlread.Conn, error) {
	c, err := sqlread.Open(s.path, true)
	if err != nil {
		return nil, sqliteErr(err)
	}
	return c, nil
}

// checkSize compares the file size with the page count that the header
// records (when the header says that count is valid), so that a cut-off
// download or copy is reported as truncated rather than read in part.
func checkSize(path string, head []byte) (int64, error) {
	pageSize := int64(binary.BigEndian.Uint16(head[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(head[28:32]))
	valid := binary.BigEndian.Uint32(head[92:96]) == binary.BigEndian.Uint32(head[24:28])
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !valid || pages == 0 || pageSize < 512 {
		return fi.Size(), nil
	}
	if want := pages * pageSize; fi.Size() < want {
		return 0, fmt.Errorf("truncated SQLite file: %d bytes, its header says %d", fi.Size(), want)
	}
	return fi.Size(), nil
}

// sqliteErr turns SQLite's errors into what a user can act on.
func sqliteErr(err error) error {
	var e *sqlread.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Primary() {
	case sqlread.CodeCorrupt, sqlread.CodeIOErr:
		return fmt.Errorf("corrupt or truncated SQLite file: %w", err)
	case sqlread.CodeNotADB:
		return fmt.Errorf("not an SQLite database: %w", err)
	}
	return err
}

func (s *schema) close() error { return s.db.Close() }

func (s *schema) has(table string) bool { return s.tables[table] }

// hasColumn reports whether table has column; it reads the table's columns
// once. Not safe for concurrent use: ask before starting parallel scans.
func (s *schema) hasColumn(ctx context.Context, table, column string) bool {
	cols, ok := s.columns[table]
	if !ok {
		cols = map[string]bool{}
		if s.tables[table] {
			if c, err := s.db.Columns(ctx, table); err == nil {
				cols = c
			}
		}
		s.columns[table] = cols
	}
	return cols[column]
}

// colOr returns column if table has it, else the SQL literal fallback, so one
// query works across export versions.
func (s *schema) colOr(ctx context.Context, table, column, fallback string) string {
	if s.hasColumn(ctx, table, column) {
		return column
	}
	return fallback
}

// rowsHint guesses a table's row count from its largest rowid (a b-tree
// descent, not a scan), bounded by what the file could hold, to size slices
// once instead of growing them.
func (s *schema) rowsHint(ctx context.Context, table string) int {
	rows, err := s.db.Query(ctx, "SELECT max(rowid) FROM "+table)
	if err != nil {
		return 0
	}
	defer rows.Close()
	if !rows.Next() {
		return 0
	}
	return int(min(max(rows.Int64(0), 0), s.size/16, 1<<28))
}
