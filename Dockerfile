# One image for every modq process (worker, beat, api, migrate); the command differs.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY pyproject.toml README.md ./
COPY moderation ./moderation
COPY worker ./worker
COPY config ./config
COPY samples ./samples
RUN pip install --no-deps . && useradd --create-home modq && mkdir -p /media && chown modq /media
USER modq
CMD ["modq", "--help"]
