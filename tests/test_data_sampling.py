import os

import pytest
import torch

from g2m.data import load_dataset
from g2m.data.neighbour_sampler import NeighbourSampler, has_pyg_sampler, resolve_sampler
from g2m.data.sampling import has_torch_cluster, random_walk, resolve_walker, sample_contexts, to_csr

# `make test-ext` builds torch-sparse and torch-cluster and sets this, so PyG's paths must run
REQUIRE_EXT = os.environ.get("G2M_REQUIRE_PYG_EXTENSIONS") == "1"
WALKERS = ["g2m"] + (["torch_cluster"] if has_torch_cluster() or REQUIRE_EXT else [])
SAMPLERS = ["g2m"] + (["pyg"] if has_pyg_sampler() or REQUIRE_EXT else [])


@pytest.fixture(scope="module")
def graph():
    return load_dataset("csbm", num_nodes=400, num_classes=4, avg_degree=3, seed=2)


def bfs_distance(edge_index, n, source):
    adj = [[] for _ in range(n)]
    for u, v in edge_index.t().tolist():
        adj[u].append(v)
    dist = [-1] * n
    dist[source], frontier = 0, [source]
    while frontier:
        nxt = []
        for u in frontier:
            for v in adj[u]:
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    nxt.append(v)
        frontier = nxt
    return dist


def test_csr_matches_edges(graph):
    csr = to_csr(graph.edge_index, graph.num_nodes)
    assert csr.rowptr[-1] == graph.num_edges
    for node in (0, 7, 123):
        got = sorted(csr.col[csr.rowptr[node] : csr.rowptr[node + 1]].tolist())
        assert got == sorted(graph.edge_index[1, graph.edge_index[0] == node].tolist())


@pytest.mark.parametrize("walker", WALKERS)
def test_walks_follow_edges(graph, walker):
    csr = to_csr(graph.edge_index, graph.num_nodes)
    deg = csr.degree()
    assert (deg == 0).any()  # isolated nodes: their walkers must stay put
    torch.manual_seed(0)
    start = torch.arange(graph.num_nodes).repeat(3)
    paths = random_walk(csr, start, 4, torch.Generator().manual_seed(0), walker)
    assert paths.shape == (start.numel(), 5) and torch.equal(paths[:, 0], start)
    edges = set(map(tuple, graph.edge_index.t().tolist()))
    for row in paths.tolist():
        for u, v in zip(row[:-1], row[1:]):
            assert (u, v) in edges or (u == v and deg[u] == 0)
    # every walker with a neighbour moves, and the walks are not all alike
    assert (paths[deg[start] > 0, 1] != start[deg[start] > 0]).all()
    assert paths[:, 1].unique().numel() > graph.num_nodes // 2
    torch.manual_seed(0)
    again = random_walk(csr, start, 4, torch.Generator().manual_seed(0), walker)
    assert torch.equal(paths, again)  # deterministic under a seed


def test_walker_and_sampler_names_are_checked():
    with pytest.raises(ValueError, match="unknown walker"):
        resolve_walker("node2vec")
    with pytest.raises(ValueError, match="unknown sampler"):
        resolve_sampler("dgl")
    assert resolve_walker("auto") == "g2m"  # one walk law and stream whatever is installed
    assert resolve_sampler("auto") == ("pyg" if has_pyg_sampler() else "g2m")


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("fanouts", [(3, 2), (-1, -1)])
def test_neighbour_samplers_give_real_edges_into_the_seeds(graph, sampler, fanouts):
    torch.manual_seed(0)
    ns = NeighbourSampler(graph.edge_index, graph.num_nodes, fanouts, sampler, torch.Generator().manual_seed(0))
    assert ns.backend == sampler
    seeds = torch.tensor([3, 50, 7, 201])
    nb = ns(seeds)
    assert torch.equal(nb.nodes[:4], seeds) and nb.num_seeds == 4
    assert nb.nodes.unique().numel() == nb.nodes.numel()
    edges = set(map(tuple, graph.edge_index.t().tolist()))
    src, dst = nb.nodes[nb.edge_index[0]], nb.nodes[nb.edge_index[1]]
    assert all((u, v) in edges for u, v in zip(src.tolist(), dst.tolist()))
    csr = to_csr(graph.edge_index, graph.num_nodes)
    for pos, seed in enumerate(seeds.tolist()):
        got = set(src[nb.edge_index[1] == pos].tolist())
        nbrs = set(csr.col[csr.rowptr[seed] : csr.rowptr[seed + 1]].tolist())
        if fanouts[0] < 0:
            assert got == nbrs  # every neighbour
        elif sampler == "pyg":  # without replacement: exactly min(fan-out, degree)
            assert got <= nbrs and len(got) == min(fanouts[0], len(nbrs))
        else:  # with replacement, repeats merged
            assert got <= nbrs and (len(got) > 0) == (len(nbrs) > 0) and len(got) <= fanouts[0]


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_contexts_valid_and_nearby_within_hops(graph, hops):
    csr = to_csr(graph.edge_index, graph.num_nodes)
    anchors = torch.tensor([0, 5, 17, 99, 250])
    gen = torch.Generator().manual_seed(1)
    ctx = sample_contexts(csr, anchors, walks=5, hops=hops, random_ratio=1.0, gen=gen)
    assert (ctx.context >= 0).all() and (ctx.context < graph.num_nodes).all()
    assert (ctx.context != ctx.anchor).all()
    assert torch.equal(ctx.anchor, anchors[ctx.group])
    assert (ctx.group[1:] >= ctx.group[:-1]).all()
    assert int((~ctx.nearby).sum()) > 0
    for a_pos, anchor in enumerate(anchors.tolist()):
        dist = bfs_distance(graph.edge_index, graph.num_nodes, anchor)
        near = ctx.context[(ctx.group == a_pos) & ctx.nearby].tolist()
        assert all(0 < dist[c] <= hops for c in near)


def test_contexts_deterministic_and_candidates(graph):
    csr = to_csr(graph.edge_index, graph.num_nodes)
    anchors = torch.arange(20)
    cands = torch.arange(100, 150)
    a = sample_contexts(csr, anchors, 2, 2, 2.0, torch.Generator().manual_seed(3), cands, walker="g2m")
    b = sample_contexts(csr, anchors, 2, 2, 2.0, torch.Generator().manual_seed(3), cands, walker="g2m")
    assert torch.equal(a.context, b.context)
    far = a.context[~a.nearby]
    assert ((far >= 100) & (far < 150)).all()
    with pytest.raises(ValueError, match="walks and hops"):
        sample_contexts(csr, anchors, 0, 2)


def test_neighbourhood_sampling(graph):
    from g2m.data.sampling import sample_neighbourhood

    csr = to_csr(graph.edge_index, graph.num_nodes)
    seeds = torch.tensor([200, 3, 41, 40])  # unsorted: seeds must stay first, in order
    edges = set(map(tuple, graph.edge_index.t().tolist()))
    hood = sample_neighbourhood(csr, seeds, [5, 3], torch.Generator().manual_seed(0))
    assert torch.equal(hood.nodes[:4], seeds) and hood.nodes.unique().numel() == hood.nodes.numel()
    glob = hood.nodes[hood.edge_index]
    assert all(tuple(e) in edges for e in glob.t().tolist())
    # every sampled edge points into a seed or a first-hop node
    first_hop = set(glob[0, torch.isin(glob[1], seeds)].tolist())
    assert set(glob[1].tolist()) <= set(seeds.tolist()) | first_hop
    # fan-out -1 takes every neighbour of every seed
    full = sample_neighbourhood(csr, seeds, [-1])
    into = full.nodes[full.edge_index]
    for s in seeds.tolist():
        assert sorted(into[0, into[1] == s].tolist()) == sorted(graph.edge_index[1, graph.edge_index[0] == s].tolist())
    assert sample_neighbourhood(csr, seeds, []).edge_index.shape == (2, 0)


@pytest.mark.parametrize("walker", WALKERS)
def test_walks_follow_the_uniform_random_walk_law(walker):
    """g2m's vectorised walk and torch-cluster's compiled one are the same process: after k steps
    from a node, the position is distributed as row s of (D^-1 A)^k (chi-square, 30,000 walkers,
    a graph of uneven degrees with an isolated node)."""
    from scipy.stats import chisquare

    und = torch.tensor([[0, 0, 0, 0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 2, 5, 5, 6, 6]])
    edge_index = torch.cat([und, und.flip(0)], 1)
    n = 8  # node 7 is isolated
    csr = to_csr(edge_index, n)
    adj = torch.zeros(n, n, dtype=torch.float64)
    adj[edge_index[0], edge_index[1]] = 1.0
    step = adj / adj.sum(1, keepdim=True).clamp(min=1)
    step[7, 7] = 1.0  # a walker with no neighbour stays
    walkers = 30_000
    torch.manual_seed(0)
    for source in (0, 3, 7):
        start = torch.full((walkers,), source)
        paths = random_walk(csr, start, 3, torch.Generator().manual_seed(source), walker)
        law = torch.zeros(n, dtype=torch.float64)
        law[source] = 1.0
        for k in range(1, 4):
            law = law @ step
            seen = torch.bincount(paths[:, k], minlength=n).double()
            support = law > 0
            assert seen[~support].sum() == 0  # never a node the walk cannot reach in k steps
            if support.sum() > 1:
                p = chisquare(seen[support].numpy(), (law[support] * walkers).numpy()).pvalue
                assert p > 1e-3, (walker, source, k, p)
