"""The weekly digest email: marking-aware, idempotent, sent over SMTP.

build (``builder``) -> per-recipient view (``views``) -> text/HTML (``render``)
-> MIME + SMTP (``sender``), with the ``ledger`` making sending idempotent and
``dispatch`` deciding which weeks are due (``send_due_digests``). ``cli`` is
`cru digest`; ``job`` is the worker's scheduled job; ``config.mail`` validates
[smtp] and [digest].

Deliberately imports nothing (the submodules import the store and Jinja2 only when used).
"""
