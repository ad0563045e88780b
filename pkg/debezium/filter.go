package debezium

import (
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// FilterList compiles one of Debezium's include or exclude lists
// (database.include.list, table.exclude.list, ...): the comma-separated
// regular expressions of key, each matching a whole name. An expression
// that does not compile is a problem on key, appended to problems.
func FilterList(vals *config.Values, key string, problems *[]config.Problem) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range vals.List(key) {
		re, err := regexp.Compile(`^(?:` + strings.TrimSpace(p) + `)$`)
		if err != nil {
			*problems = append(*problems, config.Problem{Key: key, Message: config.InvalidValue(key, p, err.Error()).Error()})
			continue
		}
		out = append(out, re)
	}
	return out
}
