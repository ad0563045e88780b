package jdbc

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Keys the source and the sink share (Confluent's names).
const (
	ConnectionURLConfig      = "connection.url"
	ConnectionUserConfig     = "connection.user"
	ConnectionPasswordConfig = "connection.password"
	ConnectionAttemptsConfig = "connection.attempts"
	ConnectionBackoffConfig  = "connection.backoff.ms"
	DialectNameConfig        = "dialect.name"
	DBTimezoneConfig         = "db.timezone"
	QuoteIdentifiersConfig   = "quote.sql.identifiers"
	TableTypesConfig         = "table.types"
)

// quote.sql.identifiers values.
const (
	QuoteAlways = "always"
	QuoteNever  = "never"
)

const connectionGroup = "Database"

// connectionKeys declares the connection keys into d.
func connectionKeys(d *config.Def) *config.Def {
	return d.
		Define(config.Key{Name: ConnectionURLConfig, Type: config.String, Default: config.NoDefault, Validator: config.NonEmptyString(),
			Importance: config.High, Group: connectionGroup, OrderInGroup: 1, Width: config.WidthLong, DisplayName: "JDBC URL",
			Doc: "JDBC connection URL: jdbc:postgresql://host[:port]/database, jdbc:mysql://host[:port]/database or " +
				"jdbc:mariadb://host[:port]/database, with optional parameters (user, password, sslmode/sslMode, " +
				"connectTimeout, currentSchema, ApplicationName; others are ignored)."}).
		Define(config.Key{Name: ConnectionUserConfig, Type: config.String, Default: nil,
			Importance: config.High, Group: connectionGroup, OrderInGroup: 2, Width: config.WidthLong, DisplayName: "JDBC User",
			Doc: "JDBC connection user."}).
		Define(config.Key{Name: ConnectionPasswordConfig, Type: config.Password, Default: nil,
			Importance: config.High, Group: connectionGroup, OrderInGroup: 3, Width: config.WidthShort, DisplayName: "JDBC Password",
			Doc: "JDBC connection password; config providers (${file:...}, ${env:...}) work here."}).
		Define(config.Key{Name: ConnectionAttemptsConfig, Type: config.Int, Default: 3, Validator: config.AtLeast(1),
			Importance: config.Low, Group: connectionGroup, OrderInGroup: 4, Width: config.WidthShort,
			Doc: "Maximum number of attempts to connect to the database."}).
		Define(config.Key{Name: ConnectionBackoffConfig, Type: config.Long, Default: int64(10000), Validator: config.AtLeast(0),
			Importance: config.Low, Group: connectionGroup, OrderInGroup: 5, Width: config.WidthShort,
			Doc: "Backoff time in milliseconds between connection attempts."}).
		Define(config.Key{Name: DialectNameConfig, Type: config.String, Default: "",
			Validator:  config.ValidString("", PostgresDialectName, MySQLDialectName),
			Importance: config.Low, Group: "Dialect", OrderInGroup: 1, Width: config.WidthLong,
			Doc: "The database dialect; by default the one of the connection URL (MySqlDatabaseDialect for MariaDB too)."}).
		Define(config.Key{Name: DBTimezoneConfig, Type: config.String, Default: "UTC", Validator: timezoneValidator(),
			Importance: config.Medium, Group: connectionGroup, OrderInGroup: 6, Width: config.WidthMedium,
			Doc: "Name of the time zone in which columns without a time zone (PostgreSQL timestamp, MySQL DATETIME) " +
				"hold their wall-clock values; timestamps are read and bound in it whatever the session's time zone. " +
				"The source's sessions keep the server's default time zone (NOW() in a query is the server's), " +
				"the sink's are db.timezone (PostgreSQL) and UTC (MySQL). MySQL TIMESTAMP columns hold instants, " +
				"read and bound in the session's zone."}).
		Define(config.Key{Name: QuoteIdentifiersConfig, Type: config.String, Default: QuoteAlways,
			Validator:  config.CaseInsensitiveValidString(QuoteAlways, QuoteNever),
			Importance: config.Medium, Group: "Dialect", OrderInGroup: 2, Width: config.WidthMedium,
			Doc: "When to quote table names, column names and other identifiers in SQL statements."})
}

func timezoneValidator() config.Validator {
	return config.LambdaValidator(func(name string, v any) error {
		s, _ := v.(string)
		if _, err := time.LoadLocation(s); err != nil || s == "" {
			return config.InvalidValue(name, s, "Invalid time zone identifier")
		}
		return nil
	}, "Any valid JDK time zone")
}

// connection is the parsed connection keys.
type connection struct {
	settings connSettings
	dialect  Dialect
	attempts int
	backoff  time.Duration
	quote    bool
}

func parseConnection(vals *config.Values) (connection, error) {
	cs, err := parseURL(vals.String(ConnectionURLConfig))
	if err != nil {
		return connection{}, err
	}
	if u := vals.String(ConnectionUserConfig); u != "" {
		cs.User = u
	}
	if p := vals.Password(ConnectionPasswordConfig).Value(); p != "" {
		cs.Password = p
	}
	cs.TimeZone, _ = time.LoadLocation(vals.String(DBTimezoneConfig))
	d, err := dialectFor(vals.String(DialectNameConfig), cs)
	if err != nil {
		return connection{}, err
	}
	return connection{
		settings: cs,
		dialect:  d,
		attempts: vals.Int(ConnectionAttemptsConfig),
		backoff:  time.Duration(vals.Long(ConnectionBackoffConfig)) * time.Millisecond,
		quote:    strings.EqualFold(vals.String(QuoteIdentifiersConfig), QuoteAlways),
	}, nil
}

// isolationLevel maps transaction.isolation.mode.
func isolationLevel(mode string) (sql.IsolationLevel, error) {
	switch strings.ToUpper(mode) {
	case "DEFAULT", "":
		return sql.LevelDefault, nil
	case "READ_UNCOMMITTED":
		return sql.LevelReadUncommitted, nil
	case "READ_COMMITTED":
		return sql.LevelReadCommitted, nil
	case "REPEATABLE_READ":
		return sql.LevelRepeatableRead, nil
	case "SERIALIZABLE":
		return sql.LevelSerializable, nil
	}
	return 0, fmt.Errorf("transaction.isolation.mode %q is not supported", mode)
}
