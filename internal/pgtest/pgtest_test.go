package pgtest

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
	if n := other.QueryInt(t, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"); n != 0 {
		t.Fatalf("the fresh database has table t")
	}
	if !strings.HasPrefix(db.JDBCURL, "jdbc:postgresql://127.0.0.1:") || !strings.HasSuffix(db.JDBCURL, "/"+db.Name) {
		t.Fatalf("JDBCURL = %q", db.JDBCURL)
	}
}

func TestSettingsForLogicalReplication(t *testing.T) {
	db := NewDB(t)
	for name, want := range map[string]string{
		"wal_level":             "logical",
		"max_replication_slots": "10",
		"max_wal_senders":       "10",
		"listen_addresses":      "127.0.0.1",
	} {
		var got string
		if err := db.SQL.QueryRow("SHOW " + name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A logical slot can be created (and is dropped with the database).
	db.Exec(t, "SELECT pg_create_logical_replication_slot('pgtest_slot', 'pgoutput')")
}

func TestPasswordRequired(t *testing.T) {
	s := Shared(t)
	wrong := strings.Replace(s.URL("postgres"), s.Password, "wrong", 1)
	db, err := sql.Open("pgx", wrong)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("connecting with a wrong password: %v, want password authentication failed", err)
	}
}

func TestOwnServerStopRestart(t *testing.T) {
	s := Start(t, Options{Settings: map[string]string{"max_connections": "20"}})
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
	var maxConn string
	if err := db.SQL.QueryRow("SHOW max_connections").Scan(&maxConn); err != nil || maxConn != "20" {
		t.Fatalf("max_connections = %q, %v", maxConn, err)
	}
}
