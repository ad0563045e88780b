package config

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// requireJSON compares v, encoded as JSON, byte for byte (field order
// included) with want written out in the test (spaces and line breaks
// outside strings do not count).
func requireJSON(t *testing.T, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if err := json.Compact(&w, []byte(want)); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !bytes.Equal(got, w.Bytes()) {
		t.Fatalf("got:\n%s\nwant:\n%s", got, w.Bytes())
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

// connectorDef's keys as Connect's ConfigKeyInfo renders them: the
// password's default hidden, a double's default as Java prints it, group
// null and order 0 where none was given.
const (
	nameKeyInfo = `{"name":"name","type":"STRING","required":true,"default_value":null,"importance":"HIGH",
		"documentation":"Globally unique name to use for this connector.","group":"Common","width":"MEDIUM",
		"display_name":"Connector name","dependents":[],"order":1}`
	tasksMaxKeyInfo = `{"name":"tasks.max","type":"INT","required":false,"default_value":"1","importance":"HIGH",
		"documentation":"Maximum number of tasks to use for this connector.","group":"Common","width":"SHORT",
		"display_name":"Tasks max","dependents":[],"order":3}`
	topicsKeyInfo = `{"name":"topics","type":"LIST","required":false,"default_value":"","importance":"HIGH",
		"documentation":"List of topics to consume, separated by commas","group":"Common","width":"LONG",
		"display_name":"Topics","dependents":[],"order":4}`
	urlKeyInfo = `{"name":"connection.url","type":"STRING","required":true,"default_value":null,"importance":"HIGH",
		"documentation":"JDBC connection URL.","group":"Connection","width":"LONG",
		"display_name":"JDBC URL","dependents":["connection.password"],"order":1}`
	passwordKeyInfo = `{"name":"connection.password","type":"PASSWORD","required":false,"default_value":"[hidden]",
		"importance":"HIGH","documentation":"JDBC connection password.","group":"Connection","width":"MEDIUM",
		"display_name":"JDBC Password","dependents":[],"order":2}`
	pollKeyInfo = `{"name":"poll.interval","type":"DOUBLE","required":false,"default_value":"1.0","importance":"LOW",
		"documentation":"Seconds between polls.","group":null,"width":"NONE",
		"display_name":"poll.interval","dependents":[],"order":0}`
	insertModeKeyInfo = `{"name":"insert.mode","type":"STRING","required":false,"default_value":"insert","importance":"MEDIUM",
		"documentation":"The insertion mode to use.","group":null,"width":"NONE",
		"display_name":"insert.mode","dependents":[],"order":0}`
	internalKeyInfo = `{"name":"sluice.lease.internal","type":"LONG","required":false,"default_value":"30000","importance":"HIGH",
		"documentation":"","group":null,"width":"NONE",
		"display_name":"sluice.lease.internal","dependents":[],"order":0}`
)

func TestKeyInfos(t *testing.T) {
	// The internal key is not listed.
	requireJSON(t, connectorDef().KeyInfos(), `[`+nameKeyInfo+`,`+tasksMaxKeyInfo+`,`+topicsKeyInfo+`,`+
		urlKeyInfo+`,`+passwordKeyInfo+`,`+pollKeyInfo+`,`+insertModeKeyInfo+`]`)
}

func TestInfos(t *testing.T) {
	infos := connectorDef().Infos("io.sluice.JdbcSink", map[string]string{
		"tasks.max":           "0",
		"topics":              "orders , refunds",
		"connection.password": "hunter2",
		"insert.mode":         "merge",
		"poll.interval":       "0.25",
	})
	// Four errors: name and connection.url missing, tasks.max below 1,
	// insert.mode not one of its values. The list is trimmed and joined
	// with commas, the password hidden, the internal key validated too.
	requireJSON(t, infos, `{"name":"io.sluice.JdbcSink","error_count":4,"groups":["Common","Connection"],"configs":[
		{"definition":`+nameKeyInfo+`,"value":{"name":"name","value":null,"recommended_values":[],
			"errors":["Missing required configuration \"name\" which has no default value."],"visible":true}},
		{"definition":`+tasksMaxKeyInfo+`,"value":{"name":"tasks.max","value":"0","recommended_values":[],
			"errors":["Invalid value 0 for configuration tasks.max: Value must be at least 1"],"visible":true}},
		{"definition":`+topicsKeyInfo+`,"value":{"name":"topics","value":"orders,refunds","recommended_values":[],
			"errors":[],"visible":true}},
		{"definition":`+urlKeyInfo+`,"value":{"name":"connection.url","value":null,"recommended_values":[],
			"errors":["Missing required configuration \"connection.url\" which has no default value."],"visible":true}},
		{"definition":`+passwordKeyInfo+`,"value":{"name":"connection.password","value":"[hidden]","recommended_values":[],
			"errors":[],"visible":true}},
		{"definition":`+pollKeyInfo+`,"value":{"name":"poll.interval","value":"0.25","recommended_values":[],
			"errors":[],"visible":true}},
		{"definition":`+insertModeKeyInfo+`,"value":{"name":"insert.mode","value":"merge","recommended_values":[],
			"errors":["Invalid value merge for configuration insert.mode: String must be one of (case insensitive): INSERT, UPSERT"],
			"visible":true}},
		{"definition":`+internalKeyInfo+`,"value":{"name":"sluice.lease.internal","value":"30000","recommended_values":[],
			"errors":[],"visible":true}}
	]}`)
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
