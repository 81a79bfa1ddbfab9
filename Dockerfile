# syntax=docker/dockerfile:1
# PolicyGap: the web app and CLI. Build: docker build -t policygap .
# Run migrations once per deploy (docker run --rm policygap policygap migrate), then start the app.

FROM python:3.11-slim-bookworm AS builder
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.9"
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY service ./service
RUN uv sync --locked --no-dev

FROM python:3.11-slim-bookworm
# WeasyPrint's Pango stack (the same list .ci/run installs), and a default font.
# Versions are not pinned: bookworm's security updates replace them, and pinning would break builds.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 999 nonroot \
    && useradd --system --gid 999 --uid 999 --create-home nonroot \
    && mkdir -p /data \
    && chown nonroot:nonroot /data
WORKDIR /app
COPY --from=builder --chown=nonroot:nonroot /app /app
COPY --chown=nonroot:nonroot questionnaires ./questionnaires
COPY --chown=nonroot:nonroot reports ./reports
COPY --chown=nonroot:nonroot alembic.ini ./
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    POLICYGAP_DATABASE_URL="sqlite:////data/policygap.sqlite3" \
    POLICYGAP_QUESTIONNAIRES_DIR="/app/questionnaires"
USER 999:999
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["uvicorn", "service.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--proxy-headers", "--timeout-worker-healthcheck", "60"]
