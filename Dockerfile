# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/prod.txt
# The code belongs to root and is only read; the processes run as a user of their own, who owns /data alone
# (a named volume mounted there, or at /data/pending-writes, starts with that folder's owner and mode).
RUN groupadd --system --gid 10001 avitogw \
    && useradd --system --uid 10001 --gid avitogw --home-dir /app --no-create-home --shell /usr/sbin/nologin avitogw \
    && mkdir -p /data/pending-writes && chown -R avitogw:avitogw /data && chmod -R 700 /data
COPY . .
USER avitogw
RUN SECRET_KEY=build-only-collectstatic-never-used-at-run-time python manage.py collectstatic --noinput
EXPOSE 8765
CMD ["gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"]
