# Mosis Store: one image for every process (SPEC §2).
#   web    (default): gunicorn on :8000
#   worker:           docker run ... IMAGE celery -A mosis worker -l info
#   beat (exactly 1): docker run ... IMAGE celery -A mosis beat -l info
#   migrations:       docker run ... IMAGE python manage.py migrate --noinput
# Configuration is environment only (docs/configuration.md); production needs at least SECRET_KEY,
# ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, CELERY_BROKER_URL and, for S3, STORAGE=s3 with the AWS_*/S3_* variables.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=mosis.settings.production \
    PORT=8000

WORKDIR /app

# Dependencies first (pinned in pyproject.toml), so code changes do not reinstall them. The project installs
# only the `mosis` CLI and the package format it shares with the store (small, rarely changed); the Django
# project runs from /app.
COPY pyproject.toml ./
COPY mosis_package ./mosis_package
COPY mosis_cli ./mosis_cli
RUN pip install --upgrade pip \
    && pip install . \
    && rm -rf build *.egg-info

COPY . .

# Static files are collected at build time and served by whitenoise (compressed, hashed names). The
# production settings refuse to start without SECRET_KEY/ALLOWED_HOSTS, so throwaway values are given here
# only for this command; they are not kept in the image's environment.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin mosis \
    && mkdir -p /app/var \
    && chown -R mosis:mosis /app/var

USER mosis
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "mosis.core.healthcheck"]

# WEB_CONCURRENCY sets the number of gunicorn workers (gunicorn reads it; default 1 — set it to ~2 x CPUs).
# gthread workers keep connections alive: ~4x the throughput of sync workers (docs/performance.md);
# mosis.gunicorn_worker.BalancedThreadWorker is gthread that takes a new connection only with a free thread
# (or one per 20 ms when busy), so kept-alive clients spread over the workers instead of piling onto one.
# --forwarded-allow-ips: the load balancer sets X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER trusts it).
# --config python:mosis.gunicorn_config: each worker freezes its start-up objects out of the cyclic GC, whose
# full collections otherwise stall the worker for 100-350 ms (the p99 tail; docs/performance.md).
CMD ["sh", "-c", "exec gunicorn mosis.wsgi:application --config python:mosis.gunicorn_config --bind 0.0.0.0:${PORT} --worker-class mosis.gunicorn_worker.BalancedThreadWorker --threads ${GUNICORN_THREADS:-4} --access-logfile - --forwarded-allow-ips='*' --graceful-timeout 30 --timeout 60"]
