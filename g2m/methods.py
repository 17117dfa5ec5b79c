"""Names of the teachers and student methods (no heavy imports: the CLI's help uses them)."""

TEACHERS = ("gcn", "sage", "gat", "appnp")
NODE_METHODS = ("mlp", "glnn", "lfd", "hfd", "ffg2m")
LINK_METHODS = ("mlp", "logit", "repr", "llp_rank", "llp_dist", "llp")
#: how LLP's rank loss averages: over the pairs outside the margin, or over every pair
#: (those inside the margin adding a constant, as the official LLP code)
RANK_AVERAGES = ("informative-pairs", "all-pairs")
#: mini-batch neighbour samplers: PyG's NeighborLoader, g2m's CSR sampler, or PyG's when installed
SAMPLERS = ("auto", "pyg", "g2m")
#: random-walk kernels for LLP's context sampling: torch-cluster's, g2m's CSR walker, or the first installed
WALKERS = ("auto", "torch_cluster", "g2m")
