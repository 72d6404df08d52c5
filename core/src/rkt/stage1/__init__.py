"""Finding, loading and validating stage1 flavors (entry-point group ``rkt.stage1``)."""
