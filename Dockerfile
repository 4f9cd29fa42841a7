FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY ledger ledger
COPY projections projections
COPY api api
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 ledger \
    && mkdir -p /keys && chown ledger /keys
USER ledger

EXPOSE 8000
CMD ["ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
