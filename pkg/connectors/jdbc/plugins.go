package jdbc

import "github.com/sluicehq/sluice/pkg/connect"

// Version is the connectors' version, as reported by the REST API.
const Version = "1.0"

// Plugins returns the JDBC source and sink connectors, for the plugin
// registry. They answer to Sluice's and Confluent's class names and to the
// short names JdbcSourceConnector, JdbcSource, JdbcSinkConnector, JdbcSink.
func Plugins() []connect.Plugin {
	return append(SourcePlugins(), SinkPlugins()...)
}

// SourcePlugins returns the source connector only.
func SourcePlugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:         SourceClass,
		Aliases:       []string{ConfluentSourceClass},
		Kind:          connect.KindSource,
		Version:       Version,
		NewConnector:  func() connect.Connector { return NewSourceConnector() },
		NewSourceTask: func() connect.SourceTask { return NewSourceTask() },
	}}
}
