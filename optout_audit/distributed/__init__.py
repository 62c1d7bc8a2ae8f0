"""One audit list over many machines, on a real Redis: a coordinator, workers, one queue.

* :mod:`~optout_audit.distributed.keys` -- the Redis keys of a run and how a queue entry holds
  its sites (every site of one registered domain in one entry);
* :mod:`~optout_audit.distributed.connection` -- Redis clients from a URL (password, TLS,
  retries through a restart) and :func:`~optout_audit.distributed.connection.mask_url`;
* :mod:`~optout_audit.distributed.coordinator` -- ``optout-audit crawl INPUT --redis URL``: seeds
  the queue once, runs a worker of its own, collects the records into ``audit.jsonl``, marks the
  run complete and finishes it as a one-machine run;
* :mod:`~optout_audit.distributed.source` -- inside a worker's crawl: the sites the spider's
  ``start()`` iterates, taken from the queue, and the item pipeline that sends each record back
  and acknowledges an entry once all of its sites' records are stored in Redis;
* :mod:`~optout_audit.distributed.worker` -- ``optout-audit worker --redis URL``.

docs/distributed.md says how the queue works and why; README "Many machines" how to run it.
"""
