# The Python worker of the signup flow: the taskwire Python SDK and workspace_tasks.py.
# Built from the repository's root.
FROM python:3.12-slim
WORKDIR /app
COPY sdk-python /app/sdk-python
RUN pip install --no-cache-dir /app/sdk-python
COPY examples/signup/workspace_tasks.py /app/examples/signup/workspace_tasks.py
ENV PYTHONUNBUFFERED=1
# The command in compose.yaml is relative to examples/, as in services.ts.
WORKDIR /app/examples
