# syntax=docker/dockerfile:1
# FineTuneFlow for a GPU host: the compiled binary plus the trainer's Python env
# (torch with CUDA, transformers, peft, bitsandbytes, TRL) installed from python/uv.lock,
# the same lock `npm start` uses.
#
#   docker build -t finetuneflow .
#   docker run --gpus all -p 8000:8000 -v ftf-data:/data \
#     -e FTF_AUTH_TOKEN=change-me-to-a-long-secret --add-host=host.docker.internal:host-gateway finetuneflow

FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node_modules/.bin/bun scripts/build.ts /out/finetuneflow

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates poppler-utils poppler-data \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 ftf
WORKDIR /opt/finetuneflow
COPY python/pyproject.toml python/uv.lock python/README.md ./python/
COPY python/finetuneflow_trainer ./python/finetuneflow_trainer
RUN python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install --no-cache-dir uv==0.13.9 \
 && cd python \
 && UV_PROJECT_ENVIRONMENT=/opt/finetuneflow/python/.venv UV_PYTHON_DOWNLOADS=never \
    /opt/uv/bin/uv sync --frozen --no-dev --no-python-downloads --python python3
COPY --from=build /out/ /opt/finetuneflow/
ENV HOST=0.0.0.0 \
    PORT=8000 \
    FTF_DATA_DIR=/data \
    OLLAMA_HOST=http://host.docker.internal:11434 \
    FTF_PYTHON=/opt/finetuneflow/python/.venv/bin/python \
    FTF_TRAINER_DIR=/opt/finetuneflow/python
RUN mkdir -p /data && chown ftf:ftf /data
VOLUME ["/data"]
USER ftf
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/opt/finetuneflow/finetuneflow", "healthcheck"]
ENTRYPOINT ["/opt/finetuneflow/finetuneflow"]
