package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares v, encoded as indented JSON, with testdata/name.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs (run go test -update after checking):\ngot:\n%s", path, got)
	}
}

// connectorDef looks like a sink connector's config as Connect lists it.
func connectorDef() *Def {
	return NewDef().
		Define(Key{Name: "name", Type: String, Default: NoDefault, Importance: High,
			Doc: "Globally unique name to use for this connector.", Group: "Common", OrderInGroup: 1,
			Width: WidthMedium, DisplayName: "Connector name", Validator: NonEmptyString()}).
		Define(Key{Name: "tasks.max", Type: Int, Default: 1, Importance: High,
			Doc: "Maximum number of tasks to use for this connector.", Group: "Common", OrderInGroup: 3,
			Width: WidthShort, DisplayName: "Tasks max", Validator: AtLeast(1)}).
		Define(Key{Name: "topics", Type: List, Default: "", Importance: High,
			Doc: "List of topics to consume, separated by commas", Group: "Common", OrderInGroup: 4,
			Width: WidthLong, DisplayName: "Topics"}).
		Define(Key{Name: "connection.url", Type: String, Default: NoDefault, Importance: High,
			Doc: "JDBC connection URL.", Group: "Connection", OrderInGroup: 1, Width: WidthLong,
			DisplayName: "JDBC URL", Dependents: []string{"connection.password"}}).
		Define(Key{Name: "connection.password", Type: Password, Default: "changeme", Importance: High,
			Doc: "JDBC connection password.", Group: "Connection", OrderInGroup: 2, Width: WidthMedium,
			DisplayName: "JDBC Password"}).
		Define(Key{Name: "poll.interval", Type: Double, Default: 1, Importance: Low, Doc: "Seconds between polls."}).
		Define(Key{Name: "insert.mode", Type: String, Default: "insert", Importance: Medium,
			Validator: CaseInsensitiveValidString("insert", "upsert"), Doc: "The insertion mode to use."}).
		Define(Key{Name: "sluice.lease.internal", Type: Long, Default: 30000, Internal: true})
}

func TestKeyInfosGolden(t *testing.T) {
	checkGolden(t, "key_infos.json", connectorDef().KeyInfos())
}

func TestInfosGolden(t *testing.T) {
	infos := connectorDef().Infos("io.sluice.JdbcSink", map[string]string{
		"tasks.max":           "0",
		"topics":              "orders , refunds",
		"connection.password": "hunter2",
		"insert.mode":         "merge",
		"poll.interval":       "0.25",
	})
	checkGolden(t, "infos.json", infos)
}

func TestInfosCountsEveryError(t *testing.T) {
	infos := connectorDef().Infos("p", map[string]string{
		"name":           "ok",
		"connection.url": "jdbc:x",
		"tasks.max":      "0",
		"insert.mode":    "merge",
		"poll.interval":  "fast",
	})
	requireEqual(t, infos.ErrorCount, 3)
	var withErrors []string
	for _, c := range infos.Configs {
		if len(c.Value.Errors) > 0 {
			withErrors = append(withErrors, c.Definition.Name)
		}
	}
	requireEqual(t, withErrors, []string{"tasks.max", "poll.interval", "insert.mode"})
	requireEqual(t, len(infos.Configs), len(connectorDef().Validate(nil)))
	requireEqual(t, infos.Groups, []string{"Common", "Connection"})
}

func TestInfosHidePasswords(t *testing.T) {
	def := NewDef().
		Define(Key{Name: "pw.default", Type: Password, Default: "default-secret"}).
		Define(Key{Name: "pw.set", Type: Password, Default: NoDefault})
	b, err := json.Marshal(def.Infos("p", map[string]string{"pw.set": "given-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"default-secret", "given-secret"} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("%s leaked into %s", secret, b)
		}
	}
	requireEqual(t, strings.Count(string(b), `"[hidden]"`), 3) // two values, one default
}

func TestKeyInfoJSONShape(t *testing.T) {
	// Field names and order as Kafka Connect writes ConfigKeyInfo, including
	// "order" for the position in the group and null for a missing group.
	b, err := json.Marshal(NewDef().Define(Key{Name: "k", Type: String, Default: NoDefault}).KeyInfos()[0])
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, string(b), `{"name":"k","type":"STRING","required":true,"default_value":null,`+
		`"importance":"HIGH","documentation":"","group":null,"width":"NONE","display_name":"k",`+
		`"dependents":[],"order":0}`)
}
