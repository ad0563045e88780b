package mqtt

import "github.com/sluicehq/sluice/pkg/connect"

// Version is the connectors' version, as reported by the REST API.
const Version = "1.0"

// Plugins returns the MQTT source and sink connectors, under Confluent's
// class names with Sluice's as aliases.
func Plugins() []connect.Plugin {
	return []connect.Plugin{SourcePlugin(), SinkPlugin()}
}

// SourcePlugin returns the MQTT source connector alone.
func SourcePlugin() connect.Plugin {
	return connect.Plugin{
		Class: SourceClass, Aliases: []string{SluiceSourceClass}, Kind: connect.KindSource, Version: Version,
		NewConnector:  func() connect.Connector { return NewSourceConnector() },
		NewSourceTask: func() connect.SourceTask { return NewSourceTask() },
	}
}

// SinkPlugin returns the MQTT sink connector alone.
func SinkPlugin() connect.Plugin {
	return connect.Plugin{
		Class: SinkClass, Aliases: []string{SluiceSinkClass}, Kind: connect.KindSink, Version: Version,
		NewConnector: func() connect.Connector { return NewSinkConnector() },
		NewSinkTask:  func() connect.SinkTask { return NewSinkTask() },
	}
}
