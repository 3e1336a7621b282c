// Package sqlsource is a datasync.DataSource over SQL tables through
// database/sql: one table per entity type, an integer primary key as the
// entity id, one column per attribute, one foreign-key column per
// reference, and an optional updated_at column (RFC 3339 text) for
// last-write-wins. Its Dialect says how to write placeholders and read
// back a new id: "?" and LastInsertId for SQLite and MySQL, "$1" and
// RETURNING for PostgreSQL. It is tested on SQLite (modernc.org/sqlite,
// pure Go) and on PostgreSQL when its server is installed.
//
// Writes are one statement each, outside the config store: links of a
// Syncer are written after the entity (see package datasync on crash
// semantics).
package sqlsource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sdpconfig/sdpconfig/entities/datasync"
)

// Table maps an entity type to a SQL table.
type Table struct {
	// Type is the entity type, Name the table (an SQL identifier).
	Type, Name string
	// ID is the integer primary-key column ("id" if empty).
	ID string
	// Attrs are the attribute columns, named as the attributes.
	Attrs []string
	// Bools are the attributes stored as integers 0/1 and read as booleans.
	Bools []string
	// Refs maps a reference name to its foreign-key column and type.
	Refs map[string]RefColumn
	// UpdatedAt is the column holding Entity.UpdatedAt ("" for none).
	UpdatedAt string
}

// RefColumn is the foreign-key column of a reference, and the type it
// refers to (whose table's id it holds).
type RefColumn struct {
	Column, Type string
}

// Dialect is the SQL dialect of a database: how it writes placeholders
// and returns the id of an inserted row.
type Dialect int

// The dialects a Source speaks.
const (
	// SQLite (and MySQL): "?" placeholders, LastInsertId.
	SQLite Dialect = iota
	// PostgreSQL: "$1", "$2", ... placeholders, INSERT ... RETURNING.
	PostgreSQL
)

// Source is a DataSource over a *sql.DB. Safe for concurrent use, as
// *sql.DB is.
type Source struct {
	name    string
	db      *sql.DB
	dialect Dialect
	tables  map[string]Table
}

// New returns the source named name over db, an SQLite (or MySQL)
// database, with the given tables; see NewDialect.
func New(name string, db *sql.DB, tables ...Table) (*Source, error) {
	return NewDialect(name, db, SQLite, tables...)
}

// NewDialect returns the source named name over db, which speaks dialect,
// with the given tables. It checks each table and column against the
// database.
func NewDialect(name string, db *sql.DB, dialect Dialect, tables ...Table) (*Source, error) {
	if dialect != SQLite && dialect != PostgreSQL {
		return nil, fmt.Errorf("sqlsource %s: unknown dialect %d", name, dialect)
	}
	s := &Source{name: name, db: db, dialect: dialect, tables: map[string]Table{}}
	for _, t := range tables {
		if t.Type == "" || t.Name == "" {
			return nil, fmt.Errorf("sqlsource: table %+v: type and name are required", t)
		}
		if t.ID == "" {
			t.ID = "id"
		}
		if err := s.checkColumns(t); err != nil {
			return nil, err
		}
		s.tables[t.Type] = t
	}
	for _, t := range s.tables {
		for n, rc := range t.Refs {
			if _, ok := s.tables[rc.Type]; !ok {
				return nil, fmt.Errorf("sqlsource %s: table %s: reference %q is to type %q, which has no table", name, t.Name, n, rc.Type)
			}
		}
	}
	return s, nil
}

// checkColumns reads no row of t but every column it names, so that a
// table or column that is not in the database fails New, with the
// database's error.
func (s *Source) checkColumns(t Table) error {
	rows, err := s.db.Query("SELECT " + t.selectCols() + " FROM " + t.Name + " WHERE 1 = 0")
	if err != nil {
		return fmt.Errorf("sqlsource %s: table %s of type %s: %w", s.name, t.Name, t.Type, err)
	}
	return rows.Close()
}

var _ datasync.Schema = (*Source)(nil)

// Types returns the source's tables as entity types: their attribute
// columns and references, for NewSyncer's check of the mappings. New has
// checked each against the database.
func (s *Source) Types() []datasync.TypeSchema {
	out := make([]datasync.TypeSchema, 0, len(s.tables))
	for _, t := range s.tables {
		ts := datasync.TypeSchema{Type: t.Type, Attrs: append([]string(nil), t.Attrs...), Refs: map[string]string{}}
		for n, rc := range t.Refs {
			ts.Refs[n] = rc.Type
		}
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

func (s *Source) table(typ string) (Table, error) {
	t, ok := s.tables[typ]
	if !ok {
		return Table{}, fmt.Errorf("sqlsource %s: no table for type %q", s.name, typ)
	}
	return t, nil
}

// refNames returns t's reference names, sorted.
func (t Table) refNames() []string {
	names := make([]string, 0, len(t.Refs))
	for n := range t.Refs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (t Table) selectCols() string {
	cols := append([]string{t.ID}, t.Attrs...)
	for _, n := range t.refNames() {
		cols = append(cols, t.Refs[n].Column)
	}
	if t.UpdatedAt != "" {
		cols = append(cols, t.UpdatedAt)
	}
	return strings.Join(cols, ", ")
}

func (t Table) scan(rows interface{ Scan(...any) error }) (datasync.Entity, error) {
	refs := t.refNames()
	n := 1 + len(t.Attrs) + len(refs)
	if t.UpdatedAt != "" {
		n++
	}
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return datasync.Entity{}, err
	}
	e := datasync.Entity{Type: t.Type, ID: fmt.Sprint(norm(vals[0])), Attrs: map[string]any{}}
	for i, a := range t.Attrs {
		v := norm(vals[1+i])
		if v == nil {
			continue
		}
		if slices.Contains(t.Bools, a) {
			if x, ok := v.(int64); ok {
				v = x != 0
			}
		}
		e.Attrs[a] = v
	}
	for i, r := range refs {
		if v := norm(vals[1+len(t.Attrs)+i]); v != nil {
			if e.Refs == nil {
				e.Refs = map[string]datasync.Ref{}
			}
			e.Refs[r] = datasync.Ref{Type: t.Refs[r].Type, ID: fmt.Sprint(v)}
		}
	}
	if t.UpdatedAt != "" {
		if v, ok := norm(vals[n-1]).(string); ok && v != "" {
			ts, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return datasync.Entity{}, fmt.Errorf("%s.%s of id %s: %w", t.Name, t.UpdatedAt, e.ID, err)
			}
			e.UpdatedAt = ts
		}
	}
	return e, nil
}

// norm turns driver values into JSON-like ones ([]byte into string).
func norm(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// Find selects the rows of typ's table matching where (attribute columns,
// or reference columns for Ref values), ordered by id.
func (s *Source) Find(ctx context.Context, typ string, where datasync.Where) ([]datasync.Entity, error) {
	t, err := s.table(typ)
	if err != nil {
		return nil, err
	}
	q := "SELECT " + t.selectCols() + " FROM " + t.Name
	var conds []string
	var args []any
	keys := make([]string, 0, len(where))
	for k := range where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := where[k]
		if r, ok := v.(datasync.Ref); ok {
			rc, ok := t.Refs[k]
			if !ok {
				return nil, fmt.Errorf("sqlsource %s: %s has no reference %q", s.name, typ, k)
			}
			conds, args = append(conds, rc.Column+" = ?"), append(args, r.ID)
			continue
		}
		if !slices.Contains(t.Attrs, k) {
			return nil, fmt.Errorf("sqlsource %s: %s has no attribute %q", s.name, typ, k)
		}
		if v == nil {
			conds = append(conds, k+" IS NULL")
			continue
		}
		conds, args = append(conds, k+" = ?"), append(args, v)
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY " + t.ID
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlsource %s: find %s: %w", s.name, typ, err)
	}
	defer rows.Close()
	var out []datasync.Entity
	for rows.Next() {
		e, err := t.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlsource %s: find %s: %w", s.name, typ, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlsource %s: find %s: %w", s.name, typ, err)
	}
	return out, nil
}

// Get reads one row.
func (s *Source) Get(ctx context.Context, r datasync.Ref) (datasync.Entity, error) {
	t, err := s.table(r.Type)
	if err != nil {
		return datasync.Entity{}, err
	}
	row := s.db.QueryRowContext(ctx, s.rebind("SELECT "+t.selectCols()+" FROM "+t.Name+" WHERE "+t.ID+" = ?"), r.ID)
	e, err := t.scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return datasync.Entity{}, fmt.Errorf("sqlsource %s: get %s: %w", s.name, r, datasync.ErrNotFound)
	}
	if err != nil {
		return datasync.Entity{}, fmt.Errorf("sqlsource %s: get %s: %w", s.name, r, err)
	}
	return e, nil
}

// values returns the columns and values of e's attributes, references and
// time, as written.
func (t Table) values(e datasync.Entity) ([]string, []any, error) {
	var cols []string
	var args []any
	for _, a := range t.Attrs {
		v := e.Attrs[a]
		if b, ok := v.(bool); ok && slices.Contains(t.Bools, a) {
			v = 0
			if b {
				v = 1
			}
		}
		cols, args = append(cols, a), append(args, v)
	}
	for k := range e.Attrs {
		if !slices.Contains(t.Attrs, k) {
			return nil, nil, fmt.Errorf("%s has no column for attribute %q", t.Name, k)
		}
	}
	for _, n := range t.refNames() {
		var v any
		if r, ok := e.Refs[n]; ok {
			v = r.ID
		}
		cols, args = append(cols, t.Refs[n].Column), append(args, v)
	}
	if t.UpdatedAt != "" {
		var v any
		if !e.UpdatedAt.IsZero() {
			v = e.UpdatedAt.UTC().Format(time.RFC3339Nano)
		}
		cols, args = append(cols, t.UpdatedAt), append(args, v)
	}
	return cols, args, nil
}

// Create inserts a row; an empty e.ID lets the database assign it.
func (s *Source) Create(ctx context.Context, e datasync.Entity) (datasync.Entity, error) {
	t, err := s.table(e.Type)
	if err != nil {
		return datasync.Entity{}, err
	}
	cols, args, err := t.values(e)
	if err != nil {
		return datasync.Entity{}, fmt.Errorf("sqlsource %s: create %s: %w", s.name, e.Type, err)
	}
	if e.ID != "" {
		cols, args = append(cols, t.ID), append(args, e.ID)
	}
	q := "INSERT INTO " + t.Name + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	id, err := s.insert(ctx, t, q, args, e.ID == "")
	if err != nil {
		return datasync.Entity{}, fmt.Errorf("sqlsource %s: create %s: %w", s.name, e.Type, err)
	}
	if e.ID == "" {
		e.ID = strconv.FormatInt(id, 10)
	}
	return e, nil
}

// Update rewrites a row (ErrNotFound if it is gone).
func (s *Source) Update(ctx context.Context, e datasync.Entity) error {
	t, err := s.table(e.Type)
	if err != nil {
		return err
	}
	cols, args, err := t.values(e)
	if err != nil {
		return fmt.Errorf("sqlsource %s: update %s: %w", s.name, e.Ref(), err)
	}
	q := "UPDATE " + t.Name + " SET " + strings.Join(cols, " = ?, ") + " = ? WHERE " + t.ID + " = ?"
	res, err := s.db.ExecContext(ctx, s.rebind(q), append(args, e.ID)...)
	return s.affected(res, err, "update", e.Ref())
}

// Delete removes a row (ErrNotFound if it is gone).
func (s *Source) Delete(ctx context.Context, r datasync.Ref) error {
	t, err := s.table(r.Type)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.rebind("DELETE FROM "+t.Name+" WHERE "+t.ID+" = ?"), r.ID)
	return s.affected(res, err, "delete", r)
}

func (s *Source) affected(res sql.Result, err error, op string, r datasync.Ref) error {
	if err != nil {
		return fmt.Errorf("sqlsource %s: %s %s: %w", s.name, op, r, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlsource %s: %s %s: %w", s.name, op, r, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlsource %s: %s %s: %w", s.name, op, r, datasync.ErrNotFound)
	}
	return nil
}

// rebind writes q's "?" placeholders in the source's dialect. The
// queries are the Source's own, whose only "?" are placeholders (table
// and column names come from Tables, values always go as arguments).
func (s *Source) rebind(q string) string {
	if s.dialect != PostgreSQL {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// insert runs the INSERT q and, with wantID, returns the new row's id:
// LastInsertId, or on PostgreSQL, which has none, the id column RETURNING.
func (s *Source) insert(ctx context.Context, t Table, q string, args []any, wantID bool) (int64, error) {
	if s.dialect == PostgreSQL && wantID {
		var id int64
		err := s.db.QueryRowContext(ctx, s.rebind(q+" RETURNING "+t.ID), args...).Scan(&id)
		return id, err
	}
	res, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	if err != nil || !wantID {
		return 0, err
	}
	return res.LastInsertId()
}
