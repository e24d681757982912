# Jiedui service image: migrate the database, then serve with uvicorn.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/jiedui
COPY pyproject.toml README.md ./
COPY app ./app
COPY solver ./solver
COPY models ./models
COPY alembic ./alembic
RUN pip install -e . && useradd --system --home /srv/jiedui jiedui && mkdir -p var && chown jiedui var
USER jiedui
EXPOSE 8000
# DATABASE_URL selects PostgreSQL (postgresql://user:pass@host/db); without it an embedded SQLite file in var/.
CMD ["sh", "-c", "jiedui db upgrade && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --proxy-headers"]
