"""The engine: studies in Optuna storage and the workers that search them.

* :mod:`.study` -- :class:`~.study.StudyConfig` (a study's settings) and creating /
  loading studies;
* :mod:`.records` -- one evaluated design -> one trial record;
* :mod:`.checkpoint` -- the strategy checkpoint attribute;
* :mod:`.runner` -- :func:`~.runner.run_study`, the one run loop of every command;
* :mod:`.worker` -- :class:`~.worker.Worker`, the loop of one worker, with
  :mod:`.claims` (claims and leases) and :mod:`.generations` (planning, closing);
* :mod:`.work` -- the work document the workers share (frozen values) and its protocol;
* :mod:`.transitions` -- what may happen to the work document: pure functions;
* :mod:`.leases` -- lease clocks and heartbeats;
* :mod:`.parallel` -- evaluating a population across joblib processes.

Nothing is imported here, so importing one module loads only what it needs.
"""
