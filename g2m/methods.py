"""Names of the teachers and student methods (no heavy imports: the CLI's help uses them)."""

TEACHERS = ("gcn", "sage", "gat", "appnp")
NODE_METHODS = ("mlp", "glnn", "lfd", "hfd", "ffg2m")
LINK_METHODS = ("mlp", "logit", "repr", "llp_rank", "llp_dist", "llp")
