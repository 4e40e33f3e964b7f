# tokcli in a container: the wheel built from this checkout, on a slim Python, as a non-root user.
#
#   docker build -t tokcli .
#   docker run --rm tokcli pricing show claude-sonnet-4-6
#   docker run --rm -v "$PWD:/work" -v tokcli-data:/data tokcli import billing/
#   docker run --rm -v "$PWD:/work" -v tokcli-data:/data tokcli report --by team
#
# docs/guides/container.md explains the volumes; tests/test_container.py checks this file.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# ---- build: the wheel, from the same sources `python -m build` uses ------------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
RUN pip install --no-cache-dir --disable-pip-version-check "build>=1.2"
# .dockerignore keeps .git, virtualenvs, caches and old dist/ out of the context.
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY pricing ./pricing
RUN python -m build --wheel --outdir /dist .

# ---- runtime: only the installed wheel ------------------------------------------------------
FROM ${PYTHON_IMAGE}
# XDG_DATA_HOME: the usage store is /data/tokcli/usage.db, on a volume that outlives the container.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XDG_DATA_HOME=/data
COPY --from=build /dist/ /tmp/dist/
RUN pip install /tmp/dist/tokcli-*.whl \
    && rm -rf /tmp/dist \
    && groupadd --gid 10001 tokcli \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin tokcli \
    && mkdir -p /data /work \
    && chown tokcli:tokcli /data /work
USER 10001:10001
WORKDIR /work
VOLUME ["/data"]
ENTRYPOINT ["tokcli"]
CMD ["--help"]
