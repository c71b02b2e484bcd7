"""One module per verb. Those that write a project define a :class:`~storyreel.api.runner.Verb` run by the one
verb runner (``plan``, ``make``, ``imagegen``, ``render``, ``pick``, ``reference``); the read-only ones are
functions (``status``, ``cost``, ``qc``, ``quality``, ``projects`` — ``list`` —, ``enhance``). Callers use
:mod:`storyreel.api`."""
