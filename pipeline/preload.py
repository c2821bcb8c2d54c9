"""Imported by the forkserver before it forks ingest workers: load the classifiers once, there.

Why: every worker needs the topic model, the entity pipeline and the gates; loading
them costs about 0.35 s per worker, and a pool starts fresh for each large ingest
(each poll of the worker that brings many messages). Loaded in the forkserver, they
are inherited by every worker it forks, for the life of the process.

The settings come through the environment (the forkserver inherits it when it
starts), because a forkserver preload can only name modules. A failure here must
never stop the forkserver: workers then load what they need themselves.
"""

from __future__ import annotations

import json
import logging
import os

from pipeline.classify import PRELOAD_ENV, ClassifySettings, warm


def _preload() -> None:
    raw = os.environ.get(PRELOAD_ENV)
    if not raw:
        return
    try:
        warm(ClassifySettings(**json.loads(raw)))
    except Exception:  # a preload is an optimisation; workers load for themselves
        logging.getLogger("cru.ingest").debug("classifier preload failed", exc_info=True)


_preload()
