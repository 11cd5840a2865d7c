# The asgi-dash demo in production: gunicorn with 2 Uvicorn workers, static files by whitenoise.
#
#   docker build -t asgi-dash-demo .
#   docker run -p 8000:8000 -e DJANGO_SECRET_KEY=$(openssl rand -hex 32) \
#       -e DJANGO_ALLOWED_HOSTS=localhost,127.0.0.1 [-e REDIS_URL=redis://redis:6379/0] asgi-dash-demo
#
# With 2 workers the chat crosses workers only through Redis: set REDIS_URL (else each worker
# has its own in-memory channel layer). The database (SQLite, /data) is created and migrated at
# start by the demo itself (demosite/asgi.py -> demoapp.bootstrap.ensure_database, under a file
# lock, so the two workers migrate once); mount a volume on /data to keep it.
#
# The CMD is the single source of truth for the command: tests/deploy/test_gunicorn_deploy.py
# parses it from this file and runs it as is from the repository root, replacing only the
# value after --bind (0.0.0.0:8000 -> 127.0.0.1 with a free port).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_DEBUG=0 \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    ASGI_DASH_DEMO_DB=/data/demo.sqlite3

WORKDIR /app
COPY . .
RUN pip install --no-cache-dir '.[deploy]'

# Static files at build time: hashed names, gzip variants and a manifest, served by whitenoise.
# collectstatic needs no real secret (it signs nothing); the running container gets its own.
RUN DJANGO_SECRET_KEY=collectstatic-only python asgi_dashboard/demo/manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app:app /data
USER app
VOLUME /data
EXPOSE 8000

CMD ["gunicorn", "--config", "asgi_dashboard/demo/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "demosite.asgi:application"]
