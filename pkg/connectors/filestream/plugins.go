package filestream

import "github.com/sluicehq/sluice/pkg/connect"

// Version is the connectors' version, as reported by the REST API.
const Version = "1.0"

// Plugins returns the FileStream source and sink connectors, for the plugin
// registry. They also answer to Connect's short names FileStreamSource and
// FileStreamSink.
func Plugins() []connect.Plugin {
	return []connect.Plugin{
		{
			Class:         SourceClass,
			Kind:          connect.KindSource,
			Version:       Version,
			NewConnector:  func() connect.Connector { return NewSourceConnector() },
			NewSourceTask: func() connect.SourceTask { return NewSourceTask() },
		},
		{
			Class:        SinkClass,
			Kind:         connect.KindSink,
			Version:      Version,
			NewConnector: func() connect.Connector { return NewSinkConnector() },
			NewSinkTask:  func() connect.SinkTask { return NewSinkTask() },
		},
	}
}
