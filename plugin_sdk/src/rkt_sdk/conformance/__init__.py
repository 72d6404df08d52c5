"""The conformance kit: a pytest plugin that checks a stage1 flavor against the contract.

Installed with ``rkt-plugin-sdk`` (entry point ``pytest11: rkt_conformance``), it does
nothing until asked::

    pytest --rkt-flavor=NAME

adds the built-in test module :mod:`rkt_sdk.conformance.test_contract` to the run. Those
tests drive the real ``rkt`` command (beside the Python running pytest, or on ``PATH``, or
``--rkt-binary``) with images built from busybox-static, each test in its own data
directory. They check what ``rkt flavors`` says of the flavor, then (when the host check
says the flavor can run here; else they skip with its reason) exit codes, arguments,
environment, volumes, stop, enter, that gc leaves nothing behind, and the capabilities
the flavor claims (several apps, isolators, network modes).

The kit never imports ``rkt`` (stage0): it talks to it only through its command line, as
a user would.
"""
