#!/usr/bin/env bash
# The JDBC example: MariaDB table shop.customers -> Kafka (JDBC source) ->
# PostgreSQL table customers (JDBC sink), on the coordinator's embedded broker.
#
# Starts MariaDB on 127.0.0.1:3307 and PostgreSQL on 127.0.0.1:5433 from
# Debian's packages (make db-tools) with their data under data/jdbc-example,
# seeds three customers, and runs the coordinator with both connectors.
# Stop it with Ctrl-C; the servers stop with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$PWD/data/jdbc-example
mkdir -p "$dir"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=(); as_my=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir"; as_pg=(runuser -u postgres --)
  as_my=(--user=mysql)
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; }
trap cleanup EXIT

if [ ! -d "$dir/pg" ]; then
  echo sluice > "$dir/pwfile"; chmod 644 "$dir/pwfile"
  "${as_pg[@]}" "$pgbin/initdb" -D "$dir/pg" -U postgres --pwfile="$dir/pwfile" --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-locale >/dev/null
fi
"${as_pg[@]}" "$pgbin/postgres" -D "$dir/pg" -p 5433 -k "$dir" -c listen_addresses=127.0.0.1 >"$dir/pg.log" 2>&1 &
pids+=($!)

if [ ! -d "$dir/my" ]; then
  mariadb-install-db --no-defaults --datadir="$dir/my" "${as_my[@]}" --auth-root-authentication-method=normal --skip-test-db >/dev/null
fi
mariadbd --no-defaults --datadir="$dir/my" --socket="$dir/my/my.sock" --port=3307 --bind-address=127.0.0.1 \
  --skip-name-resolve "${as_my[@]}" >"$dir/my.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do
  mariadb --socket="$dir/my/my.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && \
    "${as_pg[@]}" "$pgbin/psql" -h "$dir" -p 5433 -U postgres -c 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.2
done
mariadb --socket="$dir/my/my.sock" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS shop;
CREATE USER IF NOT EXISTS 'sluice'@'127.0.0.1' IDENTIFIED BY 'sluice';
GRANT ALL ON shop.* TO 'sluice'@'127.0.0.1';
CREATE TABLE IF NOT EXISTS shop.customers (
  id int AUTO_INCREMENT PRIMARY KEY,
  name varchar(100) NOT NULL,
  balance decimal(10,2) NOT NULL,
  updated_at datetime(3) NOT NULL DEFAULT NOW(3) ON UPDATE NOW(3));
INSERT INTO shop.customers (name, balance) SELECT * FROM (SELECT 'ada', 10.50 UNION ALL SELECT 'bob', 0 UNION ALL SELECT 'cy', -3.25) s
  WHERE NOT EXISTS (SELECT 1 FROM shop.customers);
SQL
"${as_pg[@]}" "$pgbin/psql" -h "$dir" -p 5433 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'shop'" | grep -q 1 || \
  "${as_pg[@]}" "$pgbin/psql" -h "$dir" -p 5433 -U postgres -c 'CREATE DATABASE shop' >/dev/null

echo "MariaDB:    mariadb --socket=$dir/my/my.sock -uroot shop"
echo "PostgreSQL: psql -h $dir -p 5433 -U postgres shop    (SELECT * FROM customers;)"
go build -o bin/ ./coordinator/cmd/coordinator
bin/coordinator examples/jdbc/mariadb-customers-source.properties examples/jdbc/postgres-customers-sink.properties &
pids+=($!)
wait "${pids[-1]}"
