FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app
COPY . .
# collectstatic runs under the production settings, as the server does: the manifest it
# writes is what every page's static links are looked up in. It reads no secret, database
# or broker; the placeholders only satisfy the settings' start-up checks and are not
# kept in the image (the real ones come from the environment at run time).
RUN pip install --no-cache-dir -e . \
 && DJANGO_SECRET_KEY=build-only-never-used-at-run-time \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    DJANGO_ALLOWED_HOSTS=build.invalid SITE_BASE_URL=https://build.invalid \
    scripts/entrypoint.sh collectstatic \
 && useradd --system --home /app escalations \
 && mkdir -p /app/var/uploads && chown -R escalations /app/var
USER escalations
EXPOSE 8000
# Sub-commands: web (the default), relay, worker, beat, migrate, health, manage … (see the script).
ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["web"]
