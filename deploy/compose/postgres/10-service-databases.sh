#!/bin/sh
# One database and one login role per service, each role owning only its own database: a service
# cannot read another's data (handbook: "never reads another service's database").
#
# The official postgres image runs this once, on an empty data directory, from
# /docker-entrypoint-initdb.d. It is a shell wrapper around SQL because the passwords come from the
# environment (KP_<SERVICE>_DB_PASSWORD) and must not be written into a file in the repository.
# The same script is used by compose and by the Kubernetes StatefulSet (tests/deploy keeps the two
# copies identical).
set -eu

SERVICES="intake scoring ordering registry notify"

password_of() {
    printenv "KP_$(echo "$1" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD" || true
}

# Every password first: a missing one must not leave half of the databases created.
for service in $SERVICES; do
    if [ -z "$(password_of "$service")" ]; then
        echo "KP_$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD is not set" >&2
        exit 1
    fi
done

for service in $SERVICES; do
    # psql's :"name" and :'value' quote safely, whatever the password contains.
    psql --set ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
        --set service="$service" --set password="$(password_of "$service")" <<'SQL'
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service" ENCODING 'UTF8';
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
done
