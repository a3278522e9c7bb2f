FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . \
 && python manage.py collectstatic --noinput -v0 \
 && useradd --system --home /app escalations \
 && mkdir -p /app/var/uploads && chown -R escalations /app/var
USER escalations
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
