# Moorage: one image for every role, chosen by command:
#   moorage api | moorage worker | moorage beat | moorage migrate
# Builds with the classic builder as well as BuildKit (no BuildKit-only syntax).

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: a self-contained venv in /opt/moorage -------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/moorage
WORKDIR /src

# Dependencies first, read from pyproject.toml: a code change then reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
 && /opt/moorage/bin/pip install -r requirements.txt

COPY app ./app
COPY workers ./workers
COPY migrations ./migrations
# A regular (not editable) install: the final image needs no source tree.
RUN /opt/moorage/bin/pip install --no-deps . \
 && /opt/moorage/bin/python -m compileall -q /opt/moorage/lib

# --- final: the venv on a clean slim image, run as an unprivileged user -----------------
FROM ${PYTHON_IMAGE}

# Home and working directory in one writable place: the default data dir lives under
# $HOME, and `celery beat` writes its schedule file to the working directory.
RUN useradd --system --user-group --uid 10001 --no-log-init \
        --home-dir /var/lib/moorage --create-home --shell /usr/sbin/nologin moorage
# ssh:// hosts are reached through the system ssh client (app/dockerhost/ssh.py).
RUN apt-get update -q && apt-get install -y -q --no-install-recommends openssh-client \
 && rm -rf /var/lib/apt/lists/*

COPY --from=builder /opt/moorage /opt/moorage

ENV PATH=/opt/moorage/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MOORAGE_DATA_DIR=/var/lib/moorage

USER moorage
WORKDIR /var/lib/moorage
EXPOSE 8000

ENTRYPOINT ["moorage"]
CMD ["api", "--host", "0.0.0.0"]
