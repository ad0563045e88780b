package jdbc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// SourceClass is the source connector's Sluice class name;
// ConfluentSourceClass, Confluent's, is accepted as an alias.
const (
	SourceClass          = "io.sluice.connect.jdbc.JdbcSourceConnector"
	ConfluentSourceClass = "io.confluent.connect.jdbc.JdbcSourceConnector"
)

// SourceConnector finds the tables to copy, spreads them over tasks and
// watches for tables created or dropped while it runs (every
// table.poll.interval.ms), asking the coordinator for new task
// configurations when the set changes. Its methods are called from one
// goroutine; the watcher runs on its own until Stop.
type SourceConnector struct {
	s      sourceSettings
	props  map[string]string
	db     *sql.DB
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	tables []TableID
}

var (
	_ connect.Connector = (*SourceConnector)(nil)
)

// NewSourceConnector returns a source connector.
func NewSourceConnector() *SourceConnector { return &SourceConnector{} }

// Config returns SourceConfig().
func (c *SourceConnector) Config() *config.Def { return SourceConfig() }

// Start parses the configuration, connects (connection.attempts times),
// lists the tables and starts watching them. In query mode there are no
// tables to watch.
func (c *SourceConnector) Start(ctx context.Context, cc connect.ConnectorContext, props map[string]string) error {
	s, err := parseSource(props)
	if err != nil {
		return err
	}
	c.s, c.props = s, maps.Clone(props)
	if s.query != "" {
		return nil
	}
	c.db, err = openDB(ctx, s.conn.dialect, s.conn.settings, s.conn.attempts, s.conn.backoff)
	if err != nil {
		return err
	}
	tables, err := c.listTables(ctx)
	if err != nil {
		c.db.Close()
		return fmt.Errorf("jdbc: listing tables: %w", err)
	}
	c.tables = tables
	wctx, cancel := context.WithCancel(ctx)
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		c.watch(wctx, cc)
	}()
	return nil
}

// listTables lists the tables matching the patterns and the include and
// exclude lists.
func (c *SourceConnector) listTables(ctx context.Context) ([]TableID, error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	all, err := c.s.conn.dialect.Tables(lctx, c.db, c.s.schemaPattern, c.s.tableTypes)
	if err != nil {
		return nil, err
	}
	var out []TableID
	for _, t := range all {
		if len(c.s.include) > 0 && !matchesAny(t, c.s.include) || matchesAny(t, c.s.exclude) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// matchesAny reports whether t is named in list, by name or schema.name.
func matchesAny(t TableID, list []string) bool {
	for _, n := range list {
		if n == t.Name || n == t.String() {
			return true
		}
	}
	return false
}

// watch lists the tables every table.poll.interval.ms and requests a task
// reconfiguration when the set changed.
func (c *SourceConnector) watch(ctx context.Context, cc connect.ConnectorContext) {
	tick := time.NewTicker(c.s.tablePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		tables, err := c.listTables(ctx)
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("jdbc source: listing tables failed; keeping the current ones", "error", err)
			}
			continue
		}
		c.mu.Lock()
		changed := !slices.Equal(tables, c.tables)
		if changed {
			slog.Info("jdbc source: tables changed; reconfiguring tasks", "before", len(c.tables), "after", len(tables))
			c.tables = tables
		}
		c.mu.Unlock()
		if changed {
			cc.RequestTaskReconfiguration()
		}
	}
}

// TaskConfigs spreads the tables over at most maxTasks tasks in contiguous
// groups (Confluent's ConnectorUtils.groupPartitions); query mode has one
// task. With no table there is no task.
func (c *SourceConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("jdbc: TaskConfigs called before Start")
	}
	if c.s.query != "" {
		return []map[string]string{maps.Clone(c.props)}, nil
	}
	c.mu.Lock()
	tables := slices.Clone(c.tables)
	c.mu.Unlock()
	if len(tables) == 0 {
		slog.Warn("jdbc source: no tables to copy; no tasks")
		return nil, nil
	}
	groups := min(max(maxTasks, 1), len(tables))
	out := make([]map[string]string, 0, groups)
	per, extra := len(tables)/groups, len(tables)%groups
	start := 0
	for g := range groups {
		n := per
		if g < extra {
			n++
		}
		names := make([]string, 0, n)
		for _, t := range tables[start : start+n] {
			names = append(names, t.String())
		}
		start += n
		b, _ := json.Marshal(names)
		tc := maps.Clone(c.props)
		tc[TablesConfig] = string(b)
		out = append(out, tc)
	}
	return out, nil
}

// Stop stops watching and closes the connection.
func (c *SourceConnector) Stop() error {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	if c.db != nil {
		return c.db.Close()
	}
	return nil
}
