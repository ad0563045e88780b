package rest

import (
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// RootLogger is the name Connect gives the root logger in /admin/loggers.
const RootLogger = "root"

// levels are log4j's levels and the slog levels they map to.
var levels = []struct {
	name  string
	level slog.Level
}{
	{"OFF", math.MaxInt32},
	{"FATAL", slog.LevelError + 4},
	{"ERROR", slog.LevelError},
	{"WARN", slog.LevelWarn},
	{"INFO", slog.LevelInfo},
	{"DEBUG", slog.LevelDebug},
	{"TRACE", slog.LevelDebug - 4},
	{"ALL", math.MinInt32},
}

// ParseLevel returns the slog level for a log4j level name (OFF, FATAL,
// ERROR, WARN, INFO, DEBUG, TRACE, ALL; any case).
func ParseLevel(name string) (slog.Level, bool) {
	up := strings.ToUpper(strings.TrimSpace(name))
	for _, l := range levels {
		if l.name == up {
			return l.level, true
		}
	}
	return 0, false
}

// levelName is the log4j name of the nearest level at or below l.
func levelName(l slog.Level) string {
	for _, candidate := range levels {
		if l >= candidate.level {
			return candidate.name
		}
	}
	return "ALL"
}

// Loggers is a registry of log levels for named loggers, the state behind
// /admin/loggers and Connect's Loggers class. Names are hierarchical with
// dots ("sluice.coordinator" is a child of "sluice"); a logger without its
// own level uses its nearest ancestor's, and finally the root's.
//
// Components get a slog.Leveler for their logger with Leveler and pass it
// to their slog handler (slog.HandlerOptions.Level); changes made through
// the REST API apply at once. Loggers is safe for concurrent use.
type Loggers struct {
	mu      sync.Mutex
	now     func() time.Time
	root    *namedLogger
	loggers map[string]*namedLogger
	max     int // most loggers PUT /admin/loggers may create
}

// Bounds of what PUT /admin/loggers may add, so that callers cannot grow
// the registry without end (log4j, under Connect, keeps every logger a
// caller names): DefaultMaxLoggers loggers in all (SetMax changes it), each
// name at most MaxLoggerNameLength bytes. Loggers that components register
// with Leveler are not refused.
const (
	DefaultMaxLoggers   = 1000
	MaxLoggerNameLength = 256
)

// SetMax bounds the number of loggers PUT /admin/loggers may reach by
// creating new ones; n <= 0 means DefaultMaxLoggers.
func (l *Loggers) SetMax(n int) {
	if n <= 0 {
		n = DefaultMaxLoggers
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max = n
}

// admit checks that namespace may be set: a name within
// MaxLoggerNameLength, and a known logger or room for a new one. Callers
// hold mu.
func (l *Loggers) admit(namespace string) error {
	if len(namespace) > MaxLoggerNameLength {
		return &BadRequestError{Message: "Logger name is longer than " + itoa64(MaxLoggerNameLength) + " bytes."}
	}
	if _, known := l.loggers[namespace]; known || namespace == RootLogger {
		return nil
	}
	if len(l.loggers) >= l.max {
		return &BadRequestError{Message: "Cannot add logger " + namespace + ": " + itoa64(int64(len(l.loggers))) +
			" loggers are known, the most this worker keeps; set the level of an existing logger or namespace instead."}
	}
	return nil
}

type namedLogger struct {
	name         string
	explicit     *slog.Level // nil: inherited
	lastModified *int64      // Unix ms of the last REST change
	effective    slog.LevelVar
}

// NewLoggers returns a registry whose root logger is at root.
func NewLoggers(root slog.Level) *Loggers {
	l := &Loggers{now: time.Now, loggers: make(map[string]*namedLogger), max: DefaultMaxLoggers}
	l.root = &namedLogger{name: RootLogger, explicit: &root}
	l.root.effective.Set(root)
	return l
}

// Leveler returns the level of the logger called name ("root" for the root
// logger), registering the logger if it is new, as log4j's getLogger does.
func (l *Loggers) Leveler(name string) slog.Leveler {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &l.logger(name).effective
}

// logger returns the logger called name, creating it. Callers hold mu.
func (l *Loggers) logger(name string) *namedLogger {
	if name == RootLogger {
		return l.root
	}
	lg, ok := l.loggers[name]
	if !ok {
		lg = &namedLogger{name: name}
		l.loggers[name] = lg
		lg.effective.Set(l.inherited(name))
	}
	return lg
}

// inherited is the level of name's nearest ancestor with a level of its
// own, or the root's. Callers hold mu.
func (l *Loggers) inherited(name string) slog.Level {
	for i := strings.LastIndexByte(name, '.'); i > 0; i = strings.LastIndexByte(name, '.') {
		name = name[:i]
		if lg, ok := l.loggers[name]; ok && lg.explicit != nil {
			return *lg.explicit
		}
	}
	return *l.root.explicit
}

func (l *Loggers) effective(lg *namedLogger) slog.Level {
	if lg.explicit != nil {
		return *lg.explicit
	}
	return l.inherited(lg.name)
}

// All returns the loggers that have a level of their own, root included,
// Connect's Loggers.allLevels (GET /admin/loggers).
func (l *Loggers) All() map[string]LoggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]LoggerLevel{RootLogger: l.level(l.root)}
	for name, lg := range l.loggers {
		if lg.explicit != nil {
			out[name] = l.level(lg)
		}
	}
	return out
}

// Level returns a known logger's effective level, Connect's Loggers.level
// (GET /admin/loggers/{name}); "root" matches in any case.
func (l *Loggers) Level(name string) (LoggerLevel, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.EqualFold(name, RootLogger) {
		return l.level(l.root), true
	}
	lg, ok := l.loggers[name]
	if !ok {
		return LoggerLevel{}, false
	}
	return l.level(lg), true
}

func (l *Loggers) level(lg *namedLogger) LoggerLevel {
	return LoggerLevel{Level: levelName(l.effective(lg)), LastModified: lg.lastModified}
}

// SetLevel sets namespace and every known logger whose name starts with it
// (Connect matches a plain prefix) to level, creating namespace if needed,
// and returns the affected names sorted, Connect's Loggers.setLevel.
// "root" sets every logger. A logger already at level (its own or
// inherited) is listed but left as it is, last-modified time included.
// level must be a name ParseLevel accepts. A namespace that is too long, or
// new when the registry is full (SetMax), is refused with a
// *BadRequestError.
func (l *Loggers) SetLevel(namespace, level string) ([]string, error) {
	lvl, ok := ParseLevel(level)
	if !ok {
		return nil, &NotFoundError{Message: "invalid log level '" + level + "'."}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.admit(namespace); err != nil {
		return nil, err
	}
	var affected []*namedLogger
	if namespace == RootLogger {
		affected = append(affected, l.root)
		for _, lg := range l.loggers {
			affected = append(affected, lg)
		}
	} else {
		for name, lg := range l.loggers {
			if strings.HasPrefix(name, namespace) {
				affected = append(affected, lg)
			}
		}
		if _, present := l.loggers[namespace]; !present {
			affected = append(affected, l.logger(namespace))
		}
	}
	// Compare with the levels before this change, whatever the order.
	current := make([]slog.Level, len(affected))
	for i, lg := range affected {
		current[i] = l.effective(lg)
	}
	now := l.now().UnixMilli()
	names := make([]string, 0, len(affected))
	for i, lg := range affected {
		names = append(names, lg.name)
		if current[i] == lvl {
			continue
		}
		set, modified := lvl, now
		lg.explicit, lg.lastModified = &set, &modified
	}
	l.refresh()
	slices.Sort(names)
	return names, nil
}

// refresh recomputes every logger's effective level. Callers hold mu.
func (l *Loggers) refresh() {
	l.root.effective.Set(*l.root.explicit)
	for _, lg := range l.loggers {
		lg.effective.Set(l.effective(lg))
	}
}

// listLoggers serves GET /admin/loggers.
func (s *server) listLoggers(w http.ResponseWriter, _ *http.Request, _ []byte) error {
	return writeJSON(w, http.StatusOK, s.opts.Loggers.All())
}

// getLogger serves GET /admin/loggers/{logger}.
func (s *server) getLogger(w http.ResponseWriter, r *http.Request, _ []byte) error {
	name := r.PathValue("logger")
	level, ok := s.opts.Loggers.Level(name)
	if !ok {
		return &NotFoundError{Message: "Logger " + name + " not found."}
	}
	return writeJSON(w, http.StatusOK, level)
}

// setLogger serves PUT /admin/loggers/{logger}?scope=worker|cluster, body
// {"level":"DEBUG"}. Worker scope (the default, also used for an unknown
// scope) answers 200 with the affected logger names; cluster scope answers
// 204, as in Connect. An unknown level is 404, as in Connect.
func (s *server) setLogger(w http.ResponseWriter, r *http.Request, body []byte) error {
	namespace := r.PathValue("logger")
	m, err := decodeConfig(body, true)
	if err != nil {
		return err
	}
	level := m["level"]
	if level == nil {
		return &BadRequestError{Message: "Desired 'level' parameter was not specified in request."}
	}
	if _, ok := ParseLevel(*level); !ok {
		return &NotFoundError{Message: "invalid log level '" + *level + "'."}
	}
	scope := r.URL.Query().Get("scope")
	switch strings.ToLower(scope) {
	case "cluster":
		if cs, ok := s.herder.(ClusterLoggerLevelSetter); ok {
			if err := cs.SetClusterLoggerLevel(r.Context(), namespace, *level); err != nil {
				return err
			}
		} else if _, err := s.opts.Loggers.SetLevel(namespace, *level); err != nil {
			return err
		}
		return writeEmpty(w, http.StatusNoContent)
	case "", "worker":
	default:
		s.log.WarnContext(r.Context(), "Received invalid scope in request to adjust logging level; will default to worker",
			"scope", scope)
	}
	affected, err := s.opts.Loggers.SetLevel(namespace, *level)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, affected)
}
