package jdbc

// KillAfterDBCommitEnv names the process tests' crash hook: in a binary
// built with -tags sluice.testhooks (only the process tests build one),
// KillAfterDBCommitEnv=1 makes the sink task SIGKILL its own process right
// after a database commit that wrote offsets to the offsets table, that
// is after rows and offsets are durable and before the lease can commit
// the group's offsets to Kafka. A binary built without the tag has no
// hook (testhook_off.go) and ignores the variable.
const KillAfterDBCommitEnv = "SLUICE_TEST_JDBC_KILL_AFTER_DB_COMMIT"
