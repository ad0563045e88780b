package jdbc

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
)

// ensureTable makes sure the shape's table exists with its columns:
// created (auto.create) or given the missing columns (auto.evolve), or an
// error naming what is missing. Deletes need only the key columns.
func (t *SinkTask) ensureTable(ctx context.Context, s *shape, del bool) (*tableState, error) {
	ts := t.tables[s.table]
	if ts != nil && ts.checked[s] != nil {
		return ts, nil
	}
	// What follows uses the connection: the batch being written first.
	if err := t.wait(ctx); err != nil {
		return nil, err
	}
	if ts == nil {
		var err error
		if ts, err = t.loadTable(ctx, s.table); err != nil {
			return nil, err
		}
	}
	d, quote := t.s.conn.dialect, t.s.conn.quote
	changed := false
	if len(ts.columns) == 0 {
		if !t.s.autoCreate {
			return nil, fmt.Errorf("jdbc: table %s is missing and auto.create is disabled", s.table)
		}
		if del {
			return nil, recordErrorf("table %s is missing: nothing to delete", s.table)
		}
		var defs []string
		for _, c := range s.cols {
			typ, err := d.ColumnType(c.schema, c.key)
			if err != nil {
				return nil, &RecordError{Err: &ValueError{Table: s.table.String(), Column: c.name, Err: err}}
			}
			def := d.Quote(c.name, quote) + " " + typ
			if !c.schema.Optional || c.key {
				def += " NOT NULL"
			}
			defs = append(defs, def)
		}
		if len(s.keys) > 0 {
			var keys []string
			for _, k := range s.keys {
				keys = append(keys, d.Quote(k, quote))
			}
			defs = append(defs, "PRIMARY KEY ("+strings.Join(keys, ", ")+")")
		}
		stmt := "CREATE TABLE " + ts.name + " (" + strings.Join(defs, ", ") + ")"
		if err := t.ddl(ctx, stmt); err != nil {
			return nil, err
		}
		changed = true
		t.log.Info("jdbc sink: created table", "table", s.table.String())
	} else {
		var missing []string
		var adds []string
		for _, c := range s.cols {
			if _, ok := ts.columns[c.name]; ok {
				continue
			}
			missing = append(missing, c.name)
			typ, err := d.ColumnType(c.schema, false)
			if err != nil {
				return nil, &RecordError{Err: &ValueError{Table: s.table.String(), Column: c.name, Err: err}}
			}
			adds = append(adds, "ALTER TABLE "+ts.name+" ADD "+d.Quote(c.name, quote)+" "+typ+" NULL")
		}
		if len(missing) > 0 {
			if !t.s.autoEvolve || del {
				return nil, fmt.Errorf("jdbc: table %s is missing columns %s and auto.evolve is disabled", s.table, strings.Join(missing, ", "))
			}
			if err := t.ddl(ctx, adds...); err != nil {
				return nil, err
			}
			changed = true
			t.log.Info("jdbc sink: added columns", "table", s.table.String(), "columns", missing)
		}
	}
	if changed {
		fresh, err := t.loadTable(ctx, s.table)
		if err != nil {
			return nil, err
		}
		ts.columns = fresh.columns
		clear(ts.checked) // the other shapes' columns are read again
	}
	cols := make([]Column, len(s.cols))
	for i, c := range s.cols {
		col, ok := ts.columns[c.name]
		if !ok {
			return nil, fmt.Errorf("jdbc: table %s has no column %q after its DDL", s.table, c.name)
		}
		cols[i] = col
	}
	ts.checked[s] = cols
	t.tables[s.table] = ts
	return ts, nil
}

// loadTable reads a table's columns (none when it does not exist).
func (t *SinkTask) loadTable(ctx context.Context, id TableID) (*tableState, error) {
	cols, err := t.s.conn.dialect.Columns(ctx, t.tx, id)
	if err != nil {
		return nil, t.fail(fmt.Errorf("jdbc: reading the columns of %s: %w", id, err))
	}
	ts := &tableState{name: qualified(t.s.conn.dialect, id, t.s.conn.quote), columns: map[string]Column{}, checked: map[*shape][]Column{}}
	for _, c := range cols {
		ts.columns[c.Name] = c
	}
	return ts, nil
}

// ddl runs schema changes between transactions: the rows buffered and
// written so far are committed with their offsets first (MySQL would
// commit them implicitly anyway), then the statements run, then a new
// transaction begins.
func (t *SinkTask) ddl(ctx context.Context, stmts ...string) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if err := t.commit(ctx, t.doneOffsets()); err != nil {
		return err
	}
	for _, stmt := range stmts {
		if _, err := t.db.ExecContext(ctx, stmt); err != nil {
			return t.fail(fmt.Errorf("jdbc: %s: %w", stmt, err))
		}
	}
	if err := t.begin(ctx); err != nil {
		return t.fail(err)
	}
	return nil
}

// doneOffsets are the next offsets after the records handled so far.
func (t *SinkTask) doneOffsets() map[connect.TopicPartition]int64 {
	out := make(map[connect.TopicPartition]int64, len(t.done))
	for tp, off := range t.done {
		out[tp] = off
	}
	return out
}
