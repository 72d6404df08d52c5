"""The pod flow: what ``rkt prepare``, ``rkt run`` and ``rkt run-prepared`` do with a pod.

The layer between the commands (:mod:`rkt.cli`) and the parts (:mod:`rkt.pods`, :mod:`rkt.net`,
:mod:`rkt.store`, :mod:`rkt.stage1`). A pod travels through it in memory:
:mod:`rkt.podflow.prepare` checks the request against the flavor before anything is made and
returns a :class:`~rkt.pods.prepare.PreparedPod`; :mod:`rkt.podflow.start` runs it, and undoes
the whole start in one place if it fails before the pod is running (the failure rule of
:mod:`rkt_sdk.contract`).
"""
