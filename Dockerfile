# One image, two roles (see docs/deploy.md):
#   service  the default command serves the Streamlit dashboard on $PORT (Cloud Run service);
#   jobs     any other command replaces it, e.g. `docker run IMAGE lineage build …` or, on Cloud
#            Run Jobs, `gcloud run jobs deploy … --command=lineage --args=build,…`.
# There is deliberately no ENTRYPOINT: the command is the whole interface, so both roles (and
# `docker run -it IMAGE sh` for debugging) work without a wrapper script.
FROM python:3.11-slim

# STREAMLIT_* are the production-only settings (.streamlit/config.toml holds the shared ones):
# nothing to watch in an immutable image, and no tracebacks in the browser (they go to the logs).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=type

# A fixed non-root identity (numeric, so "runs as non-root" is checkable from the image).
RUN groupadd --system --gid 10001 lineage \
    && useradd --system --uid 10001 --gid lineage --create-home --home-dir /home/lineage \
       --shell /usr/sbin/nologin lineage

# Pinned third-party packages first: this layer is rebuilt only when requirements.lock changes
# (scripts/lock_requirements.py writes it from pyproject.toml), not on every source change.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --requirement /tmp/requirements.lock \
    && rm /tmp/requirements.lock

# The project itself, without dependencies (they are all in the lock). `README.md*` copies the
# readme when there is one instead of failing when there is none.
COPY pyproject.toml README.md* /tmp/src/
COPY lineage_core/ /tmp/src/lineage_core/
RUN pip install --no-cache-dir --no-deps /tmp/src \
    && rm -rf /tmp/src

# The app and the bundled example. The code stays root-owned (read-only to the app user); only
# the CLI's default output and cache directories are writable.
WORKDIR /app
COPY .streamlit/ .streamlit/
COPY app.py ./
COPY pages/ pages/
COPY examples/ examples/
RUN mkdir -p /app/build /app/.lineage-cache \
    && chown lineage:lineage /app/build /app/.lineage-cache

USER 10001:10001
EXPOSE 8080

# Cloud Run sets $PORT; the shell expands it and `exec` makes Streamlit PID 1 (it handles SIGTERM).
CMD ["sh", "-c", "exec streamlit run app.py --server.port=\"${PORT:-8080}\" --server.address=0.0.0.0 --server.headless=true"]
