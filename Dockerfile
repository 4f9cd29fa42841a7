FROM python:3.11-slim

# The ledger runs as a user of its own, never root. What it keeps (its keys, and the database when
# that is an SQLite file) lives in /var/lib/ledger, which that user owns and no one else may read:
# mount a volume there (docker-compose.yml does). It writes nowhere else: the working directory
# is root's and read-only to it.
COPY pyproject.toml README.md /src/
COPY domain /src/domain
COPY ledger /src/ledger
COPY projections /src/projections
COPY api /src/api
COPY examples /src/examples
COPY witness /src/witness
RUN pip install --no-cache-dir /src \
    && rm -rf /src \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/ledger --no-create-home --shell /usr/sbin/nologin ledger \
    && install -d -m 0700 -o ledger -g ledger /var/lib/ledger /var/lib/ledger/keys

ENV LEDGER_DATABASE_URL=sqlite:////var/lib/ledger/ledger.db \
    LEDGER_SIGNING_KEY_FILE=/var/lib/ledger/keys/signing-key.pem \
    LEDGER_ENCRYPTION_KEY_FILE=/var/lib/ledger/keys/encryption-key
VOLUME /var/lib/ledger
WORKDIR /app
USER ledger:ledger

EXPOSE 8000
CMD ["ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
