"""Names of the teachers and student methods, and each option's choices (no heavy imports: the CLI's
help uses them). A choice set is declared once, as a ``Literal`` that typed config fields use; its
tuple (``NORMS``, ...) is read from it."""

from typing import Literal, get_args

TeacherName = Literal["gcn", "sage", "gat", "appnp"]
TEACHERS: tuple[str, ...] = get_args(TeacherName)
#: node teachers: the GNNs, and VQGraph's tokenizer (a GCN with a vector-quantised codebook,
#: g2m.teachers.tokenizer), whose codes a student can learn (StudentConfig.token_weight)
NodeTeacherName = Literal["gcn", "sage", "gat", "appnp", "vqgcn"]
NODE_TEACHERS: tuple[str, ...] = get_args(NodeTeacherName)
#: a node teacher followed by Correct and Smooth (g2m.teachers.correct_smooth): ``sage+cs``
CORRECT_SMOOTH = "+cs"
#: ``-t best``: per seed, the candidate teacher with the best validation score
BEST_TEACHER = "best"
#: the candidates ``-t best`` chooses among unless told otherwise: the four GNNs, each alone and
#: followed by Correct and Smooth
TEACHER_CANDIDATES: tuple[str, ...] = (*TEACHERS, *(t + CORRECT_SMOOTH for t in TEACHERS))


def parse_node_teacher(name: str) -> tuple[str, bool]:
    """``(gnn, with Correct and Smooth)`` of a node teacher's name (``sage``, ``sage+cs``, ``vqgcn``)."""
    base = name.removesuffix(CORRECT_SMOOTH)
    if base not in NODE_TEACHERS:
        raise ValueError(
            f"unknown node teacher {name!r}; choose one of {', '.join(NODE_TEACHERS)}, or a GNN followed by "
            f"Correct and Smooth (sage{CORRECT_SMOOTH})"
        )
    return base, name != base


#: link teachers that need no training (EHDM, Qin et al., LoG 2025): common neighbours,
#: Adamic-Adar and resource allocation over the split's training edges (g2m.teachers.heuristic)
LinkHeuristicName = Literal["cn", "aa", "ra"]
LINK_HEURISTICS: tuple[str, ...] = get_args(LinkHeuristicName)
#: what ``--device`` accepts besides ``cuda:N`` (g2m.device.resolve_device)
DEVICE_CHOICES = ("auto", "cpu", "cuda")
#: the help text of every ``--device`` option
DEVICE_HELP = "cpu | cuda | cuda:N | auto (CUDA when torch sees a GPU, else the CPU)."
#: hidden-layer normalisations of teachers and students (g2m.layers.make_norm)
Norm = Literal["none", "batch", "layer"]
NORMS: tuple[str, ...] = get_args(Norm)
#: link scorers (g2m.teachers.link.LinkScorer)
LinkScorerName = Literal["dot", "mlp"]
LINK_SCORERS: tuple[str, ...] = get_args(LinkScorerName)
#: the scale LLP's rank and distribution terms compare: raw logits or sigmoid probabilities
RelationalScores = Literal["logit", "prob"]
RELATIONAL_SCORES: tuple[str, ...] = get_args(RelationalScores)
#: node objectives (g2m.losses.objectives): the plain MLP, GLNN's KD and FF-G2M's ablations
NODE_OBJECTIVES = ("mlp", "glnn", "lfd", "hfd", "ffg2m")
#: named combinations of an objective and student options (g2m.config.StudentConfig fields):
#: ``nosmog`` is GLNN's KD with NOSMOG's three additions (Tian et al., ICLR 2023) at its Cora
#: settings (meettyj/NOSMOG tran.conf.yaml); ``ffg2m_safe`` is FF-G2M with every LFD / HFD
#: edge weighted by how much the teacher's distributions at its two ends agree, guarded: validation
#: chooses it, its unweighted form (FF-G2M) or the label-only MLP; ``krd`` is KRD
NODE_RECIPES: dict[str, tuple[str, dict[str, object]]] = {
    # similarity on cosine kernels, chosen on validation (NOSMOG's raw inner products with
    # FF-G2M's 3 x 512 Cora teacher collapse: val 15.95 against 85.71, seeds 0-1; README)
    "nosmog": (
        "glnn",
        {"position": "deepwalk", "similarity_weight": 0.1, "similarity_kernel": "cosine", "adversarial_eps": 0.04},
    ),
    "ffg2m_safe": ("ffg2m", {"edge_weighting": "agreement", "guard": True}),
    # KRD (Wu et al., ICML 2023): LFD on edges sampled by the teacher's reliability, tempered
    # KD/LFD as its code (LirongWu/KRD train_mini_batch divides both sides by tau)
    "krd": ("lfd", {"reliability": "krd", "tempered_kd": True}),
    # VQGraph (Yang et al., ICLR 2024): GLNN's KD plus the soft code assignments of a vqgcn teacher,
    # at the official weight (YangLing0818/VQGraph train_student.py --lamb_soft_tokens 1e-8)
    "vqgraph": ("glnn", {"token_weight": 1e-8}),
    # TINED (Zhou et al., ICML 2025): the student's layers follow the teacher's steps, its feature
    # transforms injected, and a Dirichlet energy term, at Cora's best_records.json settings
    # (scottjiao/TINED_ICML25); TINED+ adds NOSMOG's three components ("ours+nosmog")
    "tined": (
        "glnn",
        {"teacher_injection": True, "propagation_init": "identity", "dirichlet_weight": 1.0, "dirichlet_log": True},
    ),
    "tined_plus": (
        "glnn",
        {
            "teacher_injection": True,
            "propagation_init": "identity",
            "dirichlet_weight": 5e-5,
            "dirichlet_edges": 0.01,
            "position": "deepwalk",
            "similarity_weight": 0.001,
            "similarity_kernel": "dot",
            "adversarial_eps": 0.1,
        },
    ),
}
#: how TINED's propagation layers start (g2m.students.injected.InjectedMLP)
PropagationInit = Literal["identity", "random"]
#: what chooses a student's best epoch: the validation score, or the validation loss (TINED's loop)
SelectOn = Literal["score", "loss"]
#: how a student decides where the teacher's knowledge is reliable (g2m.students.reliability)
Reliability = Literal["none", "krd"]
RELIABILITIES: tuple[str, ...] = get_args(Reliability)
NODE_METHODS = NODE_OBJECTIVES + tuple(NODE_RECIPES)
#: student options that compose with any node method by name: ``glnn+position`` is GLNN's KD
#: with DeepWalk position features, ``ffg2m+agreement+guard`` is ``ffg2m_safe``, and so on (each
#: component is one or two g2m.config.StudentConfig fields; presets may refine them)
NODE_COMPONENTS: dict[str, dict[str, object]] = {
    "position": {"position": "deepwalk"},  # NOSMOG's position features
    # NOSMOG's representation-similarity distillation, cosine kernel as the nosmog recipe
    "similarity": {"similarity_weight": 0.1, "similarity_kernel": "cosine"},
    "adversarial": {"adversarial_eps": 0.04},  # NOSMOG's adversarial feature augmentation
    "agreement": {"edge_weighting": "agreement"},  # LFD / HFD edges weighted by teacher agreement
    "guard": {"guard": True},  # validation chooses: labels alone, as configured, or unweighted edges
    # VQGraph's soft code assignments at weight 1 (the paper's loss; its code's default is 1e-8)
    "tokens": {"token_weight": 1.0},
}


def parse_node_method(name: str) -> tuple[str, tuple[str, ...]]:
    """``"glnn+position+similarity"`` -> ``("glnn", ("position", "similarity"))``, checked:
    the base is a node method (objective or recipe), each component known and given once."""
    base, *components = name.split("+")
    if base not in NODE_METHODS:
        raise ValueError(
            f"unknown node method {base!r}; choose one of {NODE_METHODS}, optionally followed by "
            f"+component ({', '.join(NODE_COMPONENTS)})"
        )
    for c in components:
        if c not in NODE_COMPONENTS:
            raise ValueError(f"unknown component {c!r} in node method {name!r}; choose from {tuple(NODE_COMPONENTS)}")
    if len(set(components)) != len(components):
        raise ValueError(f"node method {name!r} names a component twice")
    return base, tuple(components)


def node_method_options(name: str) -> tuple[str, dict[str, object]]:
    """The objective behind a node method name and the student options it sets: a recipe's
    options, then each ``+component``'s, in order."""
    base, components = parse_node_method(name)
    objective, options = NODE_RECIPES.get(base, (base, {}))
    options = dict(options)
    for c in components:
        options.update(NODE_COMPONENTS[c])
    return objective, options


#: which hidden representation a model returns with ``return_hidden=True`` (the teacher cache's
#: ``hidden``, the student's input to NOSMOG's similarity projector): ``input``, what feeds the last
#: layer (after norm, ReLU and dropout), or ``pre-activation``, the last hidden layer's output
#: before them (NOSMOG's ``h_list[-1]``, teacher and student)
HiddenAt = Literal["input", "pre-activation"]
HIDDEN_POINTS: tuple[str, ...] = get_args(HiddenAt)
#: position features a student may append to its input (g2m.students.position)
Position = Literal["none", "deepwalk"]
POSITIONS: tuple[str, ...] = get_args(Position)
#: who trains the DeepWalk table (g2m.students.position.deepwalk)
PositionBackend = Literal["gensim", "torch", "random"]
POSITION_BACKENDS: tuple[str, ...] = get_args(PositionBackend)
#: similarity of representations in NOSMOG's similarity distillation: inner product (NOSMOG) | cosine
SimilarityKernel = Literal["dot", "cosine"]
SIMILARITY_KERNELS: tuple[str, ...] = get_args(SimilarityKernel)
#: how LFD / HFD weight their edges: equally (FF-G2M), or by the teacher's agreement
EdgeWeighting = Literal["none", "agreement"]
EDGE_WEIGHTINGS: tuple[str, ...] = get_args(EdgeWeighting)
LINK_METHODS = ("mlp", "logit", "repr", "llp_rank", "llp_dist", "llp")
#: a link student's terms: link BCE, LLP rank, LLP distribution, score MSE, embedding cosine
LINK_TERMS: tuple[str, ...] = ("sup", "rank", "dist", "logit", "repr")
#: each link method's default weight per term (a term left out: 0, not computed)
LINK_TERM_WEIGHTS: dict[str, dict[str, float]] = {
    "mlp": {"sup": 1.0},
    "logit": {"sup": 1.0, "logit": 1.0},
    "repr": {"sup": 1.0, "repr": 1.0},
    "llp_rank": {"sup": 1.0, "rank": 1.0},
    "llp_dist": {"sup": 1.0, "dist": 1.0},
    "llp": {"sup": 1.0, "rank": 1.0, "dist": 1.0},
}
#: how LLP's rank loss averages: over the pairs outside the margin, or over every pair
#: (those inside the margin adding a constant, as the official LLP code)
RankAverage = Literal["informative-pairs", "all-pairs"]
RANK_AVERAGES: tuple[str, ...] = get_args(RankAverage)
#: mini-batch neighbour samplers: PyG's NeighborLoader, g2m's CSR sampler, or PyG's when installed
Sampler = Literal["auto", "pyg", "g2m"]
SAMPLERS: tuple[str, ...] = get_args(Sampler)
#: random-walk kernels for LLP's context sampling: torch-cluster's, g2m's CSR walker, or the first installed
Walker = Literal["auto", "torch_cluster", "g2m"]
WALKERS: tuple[str, ...] = get_args(Walker)

#: an epoch whose validation score ties the best: "later" makes it the best and resets patience
TieBreak = Literal["later", "earlier"]
#: SAGE's neighbourhood: PyG's SAGEConv mean (separate root weight) | DGL's gcn aggregator
SageAggr = Literal["mean", "gcn"]

#: node splits (g2m.data.splits) and settings; the link settings a user picks (g2m.data.link_splits:
#: OGB link datasets bring their own split); declared here, without heavy imports, for the CLI's help
SPLIT_NAMES: tuple[str, ...] = ("public", "fixed", "ogb", "random", "glnn", "linkx")
NODE_SETTINGS: tuple[str, ...] = ("transductive", "inductive")
LINK_SETTING_NAMES: tuple[str, ...] = ("transductive", "production")
#: the names of the guard's candidates (a node student's ``guard``, a results row's ``"guard"``),
#: in the order a tie prefers them: labels alone, the student as configured, its LFD / HFD edges
#: unweighted
GUARD_CANDIDATES: tuple[str, str, str] = ("labels", "distilled", "unweighted")
LABELS, DISTILLED, UNWEIGHTED = GUARD_CANDIDATES
