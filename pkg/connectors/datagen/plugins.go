package datagen

import "github.com/sluicehq/sluice/pkg/connect"

// Version is the connector's version, as reported by the REST API.
const Version = "1.0"

// Plugins returns the datagen source connector, for the plugin registry. It
// answers to Class, ConfluentClass, and the short names DatagenConnector and
// Datagen.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:         Class,
		Aliases:       []string{ConfluentClass},
		Kind:          connect.KindSource,
		Version:       Version,
		NewConnector:  func() connect.Connector { return NewConnector() },
		NewSourceTask: func() connect.SourceTask { return NewTask() },
	}}
}
