#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory: a read-only
# role for Grafana's "Health per line" and "Open alerts per line" panels. Tables are created
# later by LineWatch's migrations (as role linewatch), hence the default privileges.
set -eu
psql -v ON_ERROR_STOP=1 -v reader_password="$LINEWATCH_READER_PASSWORD" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE linewatch_reader LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE linewatch TO linewatch_reader;
GRANT USAGE ON SCHEMA public TO linewatch_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE linewatch IN SCHEMA public GRANT SELECT ON TABLES TO linewatch_reader;
SQL
