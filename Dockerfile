# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/prod.txt
COPY . .
RUN mkdir -p /data && SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput
EXPOSE 8765
CMD ["gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"]
