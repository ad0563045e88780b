package mariadbtest

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func TestNewDB(t *testing.T) {
	db := NewDB(t)
	db.Exec(t, "CREATE TABLE t (id int PRIMARY KEY, s text)")
	db.Exec(t, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	if n := db.QueryInt(t, "SELECT count(*) FROM t"); n != 2 {
		t.Fatalf("count = %d, want 2", n)
	}
	other := NewDB(t)
	if other.Name == db.Name {
		t.Fatal("two tests got the same database")
	}
	if n := other.QueryInt(t, "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()"); n != 0 {
		t.Fatalf("the fresh database has %d tables", n)
	}
	if !strings.HasPrefix(db.JDBCURL, "jdbc:mysql://127.0.0.1:") || !strings.HasSuffix(db.JDBCURL, "/"+db.Name) {
		t.Fatalf("JDBCURL = %q", db.JDBCURL)
	}
}

func TestBinlogSettings(t *testing.T) {
	db := NewDB(t)
	for name, want := range map[string]string{
		"log_bin":          "ON",
		"binlog_format":    "ROW",
		"binlog_row_image": "FULL",
		"server_id":        "1",
		"bind_address":     "127.0.0.1",
	} {
		var n, got string
		if err := db.SQL.QueryRow("SHOW GLOBAL VARIABLES LIKE '"+name+"'").Scan(&n, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// The user can read the binlog position (REPLICATION CLIENT).
	rows, err := db.SQL.Query("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("SHOW MASTER STATUS returned no row: binary log off")
	}
	rows.Close()
}

func TestPasswordRequired(t *testing.T) {
	s := Shared(t)
	c := s.Config("")
	c.Passwd = "wrong"
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "Access denied") {
		t.Fatalf("connecting with a wrong password: %v, want Access denied", err)
	}
}

func TestOwnServerKillRestart(t *testing.T) {
	s := Start(t, Options{Settings: map[string]string{"max-connections": "20"}})
	db := s.NewDB(t)
	db.Exec(t, "CREATE TABLE t (id int)")
	db.Exec(t, "INSERT INTO t VALUES (1)")
	s.Kill()
	if err := db.SQL.Ping(); err == nil {
		t.Fatal("ping after kill succeeded")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if n := db.QueryInt(t, "SELECT count(*) FROM t"); n != 1 {
		t.Fatalf("after restart count = %d, want 1", n)
	}
	if n := db.QueryInt(t, "SELECT @@max_connections"); n != 20 {
		t.Fatalf("max_connections = %d, want 20", n)
	}
}
