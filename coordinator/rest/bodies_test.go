package rest

// The bodies TestEndpoints expects, written out in Kafka Connect's format
// for the fake herder's connectors (fake_test.go): "local-file-sink" is
// Connect's quickstart file sink (sinkConfig), RUNNING with one task on
// "fakehost:8083"; "stopped-sink" has the same config and is STOPPED.
//
// The FileStreamSource key definitions are Connect's own: the same as
// Apache Kafka Connect 4.1.1 answers (coordinator/conformance/testdata/
// connect_rest.json, "validate with errors"). name, connector.class and
// tasks.max are the fake's shortened ConnectorConfig (fake_test.go's
// commonDef). That Sluice's coordinator answers as Connect does is checked
// against Connect itself by coordinator/conformance (TestRESTMatchesConnect).

const serverInfoBody = `{"version":"3.9.0","commit":"a60e31147e6b01ee","kafka_cluster_id":"I4ZmrWqfT2e-upky_4fdPA"}`

const healthBody = `{"status":"healthy","message":"Worker has completed startup and is ready to handle requests."}`

const (
	localFileSinkConfig = `{
		"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector",
		"file":"/tmp/test.sink.txt",
		"name":"local-file-sink",
		"tasks.max":"1",
		"topics":"test-topic"
	}`
	stoppedSinkConfig = `{
		"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector",
		"file":"/tmp/test.sink.txt",
		"name":"stopped-sink",
		"tasks.max":"1",
		"topics":"test-topic"
	}`

	connectorConfigBody = localFileSinkConfig
	connectorInfoBody   = `{"name":"local-file-sink","config":` + localFileSinkConfig + `,
		"tasks":[{"connector":"local-file-sink","task":0}],"type":"sink"}`
	stoppedSinkInfo = `{"name":"stopped-sink","config":` + stoppedSinkConfig + `,"tasks":[],"type":"sink"}`

	connectorStatusBody = `{
		"name":"local-file-sink",
		"connector":{"state":"RUNNING","worker_id":"fakehost:8083"},
		"tasks":[{"id":0,"state":"RUNNING","worker_id":"fakehost:8083"}],
		"type":"sink"
	}`
	stoppedSinkStatus = `{
		"name":"stopped-sink",
		"connector":{"state":"STOPPED","worker_id":"fakehost:8083"},
		"tasks":[],
		"type":"sink"
	}`
	// A restart with includeTasks=true answers the statuses it is about
	// to restart.
	restartIncludeTasksBody = `{
		"name":"local-file-sink",
		"connector":{"state":"RESTARTING","worker_id":"fakehost:8083"},
		"tasks":[{"id":0,"state":"RESTARTING","worker_id":"fakehost:8083"}],
		"type":"sink"
	}`
	taskStatusBody = `{"id":0,"state":"RUNNING","worker_id":"fakehost:8083"}`

	connectorsExpandStatusBody = `{
		"local-file-sink":{"status":` + connectorStatusBody + `},
		"stopped-sink":{"status":` + stoppedSinkStatus + `}
	}`
	connectorsExpandInfoBody = `{
		"local-file-sink":{"info":` + connectorInfoBody + `},
		"stopped-sink":{"info":` + stoppedSinkInfo + `}
	}`
	connectorsExpandBothBody = `{
		"local-file-sink":{"info":` + connectorInfoBody + `,"status":` + connectorStatusBody + `},
		"stopped-sink":{"info":` + stoppedSinkInfo + `,"status":` + stoppedSinkStatus + `}
	}`

	// The request's config, with the name added and tasks.max as sent.
	createConnectorBody = `{
		"name":"local-file-source",
		"config":{
			"connector.class":"FileStreamSource",
			"file":"/tmp/test.txt",
			"name":"local-file-source",
			"tasks.max":"1",
			"topic":"connect-test"
		},
		"tasks":[{"connector":"local-file-source","task":0}],
		"type":"source"
	}`

	// The fake's task config: the connector's file and the task class.
	tasksBody = `[{
		"id":{"connector":"local-file-sink","task":0},
		"config":{"file":"/tmp/test.sink.txt","task.class":"org.apache.kafka.connect.file.FileStreamSinkTask"}
	}]`

	activeTopicsBody = `{"local-file-sink":{"topics":["test-topic"]}}`

	offsetsAlteredBody = `{"message":"The offsets for this connector have been altered successfully"}`
	offsetsResetBody   = `{"message":"The offsets for this connector have been reset successfully"}`
)

// The fake's plugins (fakePlugins), in its order; connectorsOnly=false adds
// the converter.
const (
	connectorPluginsBody = `[
		{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"3.9.0"},
		{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"3.9.0"},
		{"class":"com.example.SecretSinkConnector","type":"sink"}
	]`
	connectorPluginsAllBody = `[
		{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"3.9.0"},
		{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"3.9.0"},
		{"class":"com.example.SecretSinkConnector","type":"sink"},
		{"class":"org.apache.kafka.connect.json.JsonConverter","type":"converter","version":"3.9.0"}
	]`
)

// Key definitions as Connect's ConfigKeyInfo renders them.
const (
	nameDefinition = `{"name":"name","type":"STRING","required":true,"default_value":null,"importance":"HIGH",
		"documentation":"Globally unique name to use for this connector.","group":"Common","width":"MEDIUM",
		"display_name":"Connector name","dependents":[],"order":1}`
	connectorClassDefinition = `{"name":"connector.class","type":"STRING","required":true,"default_value":null,"importance":"HIGH",
		"documentation":"Name or alias of the class for this connector.","group":"Common","width":"LONG",
		"display_name":"Connector class","dependents":[],"order":2}`
	tasksMaxDefinition = `{"name":"tasks.max","type":"INT","required":false,"default_value":"1","importance":"HIGH",
		"documentation":"Maximum number of tasks to use for this connector.","group":"Common","width":"SHORT",
		"display_name":"Tasks max","dependents":[],"order":3}`

	// FileStreamSourceConnector's own keys, as Connect 4.1.1 defines them.
	fileSourceDefinition = `{"name":"file","type":"STRING","required":false,"default_value":null,"importance":"HIGH",
		"documentation":"Source filename. If not specified, the standard input will be used","group":null,"width":"NONE",
		"display_name":"file","dependents":[],"order":-1}`
	topicDefinition = `{"name":"topic","type":"STRING","required":true,"default_value":null,"importance":"HIGH",
		"documentation":"The topic to publish data to","group":null,"width":"NONE",
		"display_name":"topic","dependents":[],"order":-1}`
	batchSizeDefinition = `{"name":"batch.size","type":"INT","required":false,"default_value":"2000","importance":"LOW",
		"documentation":"The maximum number of records the source task can read from the file each time it is polled",
		"group":null,"width":"NONE","display_name":"batch.size","dependents":[],"order":-1}`

	apiKeyDefinition = `{"name":"api.key","type":"PASSWORD","required":true,"default_value":null,"importance":"HIGH",
		"documentation":"API key.","group":null,"width":"NONE","display_name":"api.key","dependents":[],"order":-1}`

	pluginConfigBody = `[` + fileSourceDefinition + `,` + topicDefinition + `,` + batchSizeDefinition + `]`
)

// validateBody answers {"connector.class":FileStreamSourceConnector,
// "name":"v","tasks.max":"x"}: three errors (tasks.max twice, as Connect
// reports a value that is not a number and then null; topic missing), and
// batch.size's default as its value.
const validateBody = `{
	"name":"org.apache.kafka.connect.file.FileStreamSourceConnector",
	"error_count":3,
	"groups":["Common"],
	"configs":[
		{"definition":` + nameDefinition + `,
		 "value":{"name":"name","value":"v","recommended_values":[],"errors":[],"visible":true}},
		{"definition":` + connectorClassDefinition + `,
		 "value":{"name":"connector.class","value":"org.apache.kafka.connect.file.FileStreamSourceConnector",
			"recommended_values":[],"errors":[],"visible":true}},
		{"definition":` + tasksMaxDefinition + `,
		 "value":{"name":"tasks.max","value":null,"recommended_values":[],"visible":true,"errors":[
			"Invalid value x for configuration tasks.max: Not a number of type INT",
			"Invalid value null for configuration tasks.max: Value must be non-null"]}},
		{"definition":` + fileSourceDefinition + `,
		 "value":{"name":"file","value":null,"recommended_values":[],"errors":[],"visible":true}},
		{"definition":` + topicDefinition + `,
		 "value":{"name":"topic","value":null,"recommended_values":[],"visible":true,"errors":[
			"Missing required configuration \"topic\" which has no default value."]}},
		{"definition":` + batchSizeDefinition + `,
		 "value":{"name":"batch.size","value":"2000","recommended_values":[],"errors":[],"visible":true}}
	]
}`

// validatePasswordBody answers a valid SecretSinkConnector config: the
// password's value is "[hidden]", as in Connect.
const validatePasswordBody = `{
	"name":"com.example.SecretSinkConnector",
	"error_count":0,
	"groups":["Common"],
	"configs":[
		{"definition":` + nameDefinition + `,
		 "value":{"name":"name","value":"v","recommended_values":[],"errors":[],"visible":true}},
		{"definition":` + connectorClassDefinition + `,
		 "value":{"name":"connector.class","value":"com.example.SecretSinkConnector","recommended_values":[],"errors":[],"visible":true}},
		{"definition":` + tasksMaxDefinition + `,
		 "value":{"name":"tasks.max","value":"1","recommended_values":[],"errors":[],"visible":true}},
		{"definition":` + apiKeyDefinition + `,
		 "value":{"name":"api.key","value":"[hidden]","recommended_values":[],"errors":[],"visible":true}}
	]
}`
