// Package sqlread reads an SQLite file row by row through SQLite's own C API
// (modernc.org/sqlite/lib, the same transpiled SQLite that the database/sql
// driver wraps), for scans where database/sql costs more than SQLite does.
//
// Reading a row through database/sql costs about 0.8 µs on a 2-core machine,
// most of it outside SQLite: the connection mutex that modernc's driver
// opens every connection with (FULLMUTEX), boxing each value into an
// interface, and Scan's conversions. A Conn here is opened NOMUTEX and read
// with sqlite3_step and sqlite3_column_*: no locks, no allocations per row,
// and two Conns on two goroutines scale with the cores. The price is that a
// Conn belongs to one goroutine at a time, and statements are plain SQL with
// integer parameters.
//
// Start with Open, Conn.Query and Rows (shaped like database/sql's: Next,
// typed column getters, Err, Close). Tables and Columns detect a schema.
package sqlread

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Error is an SQLite error: its result code (extended where SQLite gives
// one) and message.
type Error struct {
	Code int    // SQLite (extended) result code
	Msg  string // sqlite3_errmsg, or sqlite3_errstr when there is none
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d)", e.Msg, e.Code) }

// Primary is the primary result code (SQLITE_CORRUPT for
// SQLITE_CORRUPT_INDEX, ...).
func (e *Error) Primary() int { return e.Code & 0xff }

// Result codes callers tell apart.
const (
	CodeIOErr   = sqlite3.SQLITE_IOERR
	CodeCorrupt = sqlite3.SQLITE_CORRUPT
	CodeNotADB  = sqlite3.SQLITE_NOTADB
)

// ptrSize is the size of a C pointer.
const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// loadPtr reads the C pointer that SQLite stored at p (an out parameter in
// libc's memory).
func loadPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, ptrSize)
	if ptrSize == 8 {
		return uintptr(binary.NativeEndian.Uint64(b))
	}
	return uintptr(binary.NativeEndian.Uint32(b))
}

// Conn is one read-only connection. It is not safe for concurrent use:
// open one per goroutine.
type Conn struct {
	tls *libc.TLS
	db  uintptr
}

// Open opens the SQLite file at path read-only. immutable says that nothing
// writes the file while it is read, which lets SQLite skip locking and
// change detection (an Nsight Systems export, once written).
func Open(path string, immutable bool) (*Conn, error) {
	q := "mode=ro"
	if immutable {
		q += "&immutable=1"
	}
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: q}
	c := &Conn{tls: libc.NewTLS()}
	name, err := libc.CString(u.String())
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := c.tls.Alloc(ptrSize)
	defer c.tls.Free(ptrSize)
	flags := int32(sqlite3.SQLITE_OPEN_READONLY | sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_URI)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, flags, 0)
	c.db = loadPtr(pdb)
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.Close()
		return nil, err
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	return c, nil
}

// Close closes the connection and the statements left open on it.
func (c *Conn) Close() error {
	if c.tls == nil {
		return nil
	}
	var err error
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.err(rc)
		}
		c.db = 0
	}
	c.tls.Close()
	c.tls = nil
	return err
}

// err makes an Error of a result code, with the connection's message.
func (c *Conn) err(rc int32) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
		if ext := sqlite3.Xsqlite3_extended_errcode(c.tls, c.db); ext&0xff == rc&0xff {
			rc = ext
		}
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return &Error{Code: int(rc), Msg: msg}
}

// Rows is the result of a query, read like database/sql's: call Next
// before each row, read columns by index, check Err after the last.
type Rows struct {
	c    *Conn
	stmt uintptr
	ctx  context.Context
	n    int
	err  error
}

// checkEvery is how many rows pass between looks at the context: often
// enough to stop within milliseconds, rarely enough to cost nothing.
const checkEvery = 1 << 12

// Query prepares sql (one statement), binds args to its ?NNN parameters
// and returns its rows. ctx is checked while stepping through them.
func (c *Conn) Query(ctx context.Context, sql string, args ...int64) (*Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	zsql, err := libc.CString(sql)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, zsql)
	pstmt := c.tls.Alloc(ptrSize)
	defer c.tls.Free(ptrSize)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, zsql, -1, pstmt, 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	r := &Rows{c: c, stmt: loadPtr(pstmt), ctx: ctx}
	if r.stmt == 0 {
		return nil, errors.New("sqlread: empty statement")
	}
	for i, a := range args {
		if rc := sqlite3.Xsqlite3_bind_int64(c.tls, r.stmt, int32(i+1), a); rc != sqlite3.SQLITE_OK {
			err := c.err(rc)
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// Next steps to the next row; false at the end or on an error (see Err).
func (r *Rows) Next() bool {
	if r.stmt == 0 {
		return false
	}
	r.n++
	if r.n%checkEvery == 0 {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			r.Close()
			return false
		}
	}
	switch rc := sqlite3.Xsqlite3_step(r.c.tls, r.stmt); rc {
	case sqlite3.SQLITE_ROW:
		return true
	case sqlite3.SQLITE_DONE:
	default:
		r.err = r.c.err(rc)
	}
	r.Close()
	return false
}

// Int64 is column i of the row as an integer (0 for NULL, as SQLite
// converts).
func (r *Rows) Int64(i int) int64 {
	return sqlite3.Xsqlite3_column_int64(r.c.tls, r.stmt, int32(i))
}

// Float64 is column i of the row as a float (0 for NULL).
func (r *Rows) Float64(i int) float64 {
	return sqlite3.Xsqlite3_column_double(r.c.tls, r.stmt, int32(i))
}

// IsNull says whether column i of the row is NULL.
func (r *Rows) IsNull(i int) bool {
	return sqlite3.Xsqlite3_column_type(r.c.tls, r.stmt, int32(i)) == sqlite3.SQLITE_NULL
}

// Text is column i of the row as a string ("" for NULL), copied out of
// SQLite's buffer.
func (r *Rows) Text(i int) string {
	p := sqlite3.Xsqlite3_column_text(r.c.tls, r.stmt, int32(i))
	n := sqlite3.Xsqlite3_column_bytes(r.c.tls, r.stmt, int32(i))
	if p == 0 || n <= 0 {
		return ""
	}
	return string(libc.GoBytes(p, int(n)))
}

// Err is the error that ended Next early, if any.
func (r *Rows) Err() error { return r.err }

// Close finalizes the statement; Next closes it at the end by itself.
func (r *Rows) Close() error {
	if r.stmt == 0 {
		return nil
	}
	rc := sqlite3.Xsqlite3_finalize(r.c.tls, r.stmt)
	r.stmt = 0
	if rc != sqlite3.SQLITE_OK && r.err == nil {
		// finalize repeats the error that ended the statement, which
		// Next already kept.
		return r.c.err(rc)
	}
	return nil
}

// Tables returns the names of the tables and views of the main database.
func (c *Conn) Tables(ctx context.Context) (map[string]bool, error) {
	return c.set(ctx, `SELECT name FROM sqlite_master WHERE type IN ('table', 'view')`)
}

// Columns returns the column names of table; none when it does not exist.
func (c *Conn) Columns(ctx context.Context, table string) (map[string]bool, error) {
	return c.set(ctx, `SELECT name FROM pragma_table_info('`+quote(table)+`')`)
}

// set returns the values of the first column of q's rows.
func (c *Conn) set(ctx context.Context, q string) (map[string]bool, error) {
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for rows.Next() {
		out[rows.Text(0)] = true
	}
	return out, rows.Err()
}

// quote doubles single quotes for an SQL string literal.
func quote(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			b = append(b, '\'')
		}
		b = append(b, s[i])
	}
	return string(b)
}
