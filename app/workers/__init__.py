"""Run execution: the job hand-off after commit, the worker loop, the in-process pool and Celery."""
