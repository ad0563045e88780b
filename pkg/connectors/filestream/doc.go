// Package filestream provides Apache Kafka's FileStream connectors, with the
// same class names and configuration keys, so that Connect's quickstart
// (connect-file-source.properties, connect-file-sink.properties) runs on
// Sluice unchanged apart from where the file lives:
//
//   - org.apache.kafka.connect.file.FileStreamSourceConnector reads a text
//     file line by line and publishes each complete line to one topic;
//   - org.apache.kafka.connect.file.FileStreamSinkConnector appends the value
//     of each record it consumes to a file, one line per record.
//
// Differences from Kafka Connect, all caused by leases being bounded units of
// work run by short-lived processes:
//
//   - file is required by both connectors. Connect falls back to stdin and
//     stdout, which a lease-based worker does not have in any useful sense.
//   - A source file that cannot be opened or read (missing, not readable, a
//     directory) fails the task with an error naming the file. Connect's
//     task sleeps and retries until the file appears; a lease cannot wait
//     beyond its deadline, and a task that silently produces nothing hides
//     the misconfiguration.
//   - The source position is a byte offset in the file. Connect counts UTF-16
//     characters but seeks in bytes, which goes wrong on non-ASCII text; the
//     stored offset has the same shape ({"position": <long>} under the
//     partition {"filename": <file>}), so offsets migrate as long as the
//     file is ASCII.
//   - A stored position beyond the end of the file (the file was truncated
//     or replaced) is an error rather than a silent stall; reset the
//     connector's offsets to start over.
//
// The source only ever emits complete lines: a final line that has no line
// terminator yet is left for a later Poll or a later lease, and its bytes are
// not counted in the committed position. Lines end with "\n", "\r\n" or a
// lone "\r", as in Connect.
//
// The sink is at least once, as Connect's: the executor commits offsets only
// after Flush made the lines durable, but a lease that fails after writing
// and is retried appends the same lines again.
package filestream
