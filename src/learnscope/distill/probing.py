"""Distillation by probing: read a decision tree out of a network's hidden representation
(Boix-Adsera, "Towards a theory of model distillation", 2024).

A network that computes a depth-r tree of ±1 inputs tends to represent the tree's ANDs of
input literals (x_i or ¬x_i on the path to a node) linearly in its hidden layers. The
distiller finds them with linear probes and assembles them into a tree:

1. **Probe** (``ProbeFitter``): the representation z(x) is every hidden layer of the network,
   concatenated (``representations.hidden_layers``), on ``n_fit`` inputs to fit and ``n_val``
   fresh inputs to score, its units z-scored on the fit inputs (constant units dropped). The
   probe of an AND A is the ridge regression of its ±1 value (2·A(x) − 1) on z; its score is
   the validation MSE ÷ the validation variance (1 − R²: 0 = represented exactly, 1 = no
   better than a constant; an AND constant on the validation inputs scores 1). Every probe of
   a batch is fitted at once: one Cholesky factor of ZᵀZ + λ·n·I (float64) for all of them, so
   a batch of P probes costs two (n × m) @ (m × P) products (float32) and one triangular solve
   (``make bench`` times the ratio to fitting each probe on its own).
2. **Beam** (``beam_search``): the empty AND (the root) is kept; at depth j + 1 the candidates
   are every one-literal extension A ∧ ℓ of the k best-scored ANDs of depth j (ℓ on a variable
   not in A); all candidates of a depth are probed, the k best extended, down to depth r. The
   number of probes is the number of distinct ANDs probed, the root included: with d = 100,
   r = 3 that is far fewer than the Σ_{i≤r} 2^i·C(d, i) = 1,313,601 ANDs of size ≤ r.
3. **Assemble** (``best_tree``): a dynamic program over the probed ANDs finds the depth-≤r tree
   whose nodes are all probed ANDs and that agrees with the network's labels on the most fit
   inputs: an AND of depth r is a leaf; a shallower AND A is a leaf (labelled by its majority)
   or splits on x_i when both A ∧ ¬x_i and A ∧ x_i were probed, whichever agrees with more
   labels (a tie keeps the leaf, then the lowest i). The authors' code assembles with the true
   labels; here it uses the network's, so the tree is a distillation of the network alone.

ANDs are rows of sorted literal codes with one int64 key each (``distill.ands``). Whether the
distilled tree is the true one is ``trees.same_function``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from learnscope.distill.ands import and_keys, and_values, check_key_range, extensions, literal_matrix
from learnscope.distill.trees import LEAF, UNDEFINED_FEATURE, TreeArrays, from_counts, predict

CHUNK = 4096  # probes whose ±1 targets are built at once ((n, CHUNK) float32 each)


class ProbeFitter:
    """Batched ridge probes on one representation (module docstring, step 1).

    Args:
        z_fit: (n_fit, m) representation of the fit inputs; z_val: (n_val, m) of the
            validation inputs.
        ridge: λ, relative to the number of fit inputs (the penalty is λ·n_fit·‖w‖²).
    """

    def __init__(self, z_fit: np.ndarray, z_val: np.ndarray, ridge: float):
        z_fit, z_val = np.asarray(z_fit, np.float64), np.asarray(z_val, np.float64)
        mean, std = z_fit.mean(axis=0), z_fit.std(axis=0)
        keep = std > 1e-6 * max(float(std.max(initial=0.0)), 1e-300)
        self.n_units = int(keep.sum())
        z_fit = (z_fit[:, keep] - mean[keep]) / std[keep]
        self.ridge_n = ridge * len(z_fit)
        gram = z_fit.T @ z_fit + self.ridge_n * np.eye(self.n_units)  # float64
        self.factor = scipy.linalg.cho_factor(gram)
        # The two (n × m) @ (m × P) products of every batch run in float32 (module docstring).
        self.z_fit = z_fit.astype(np.float32)
        self.z_val = ((z_val[:, keep] - mean[keep]) / std[keep]).astype(np.float32)

    def scores(self, t_fit: np.ndarray, t_val: np.ndarray) -> np.ndarray:
        """(P,) 1 − R² on the validation inputs of the probes of targets t_fit (n_fit, P),
        t_val (n_val, P); 1.0 where a target is constant on the validation inputs."""
        mean = t_fit.mean(axis=0)
        rhs = (self.z_fit.T @ (t_fit - mean).astype(np.float32)).astype(np.float64)  # (m, P)
        weights = scipy.linalg.cho_solve(self.factor, rhs).astype(np.float32)
        mse = ((t_val - mean - self.z_val @ weights) ** 2).mean(axis=0, dtype=np.float64)
        var = t_val.var(axis=0)
        return np.where(var > 0, mse / np.where(var > 0, var, 1.0), 1.0)


@dataclass(frozen=True, eq=False)
class Probed:
    """Every AND probed for one network, over all beam widths ``ks``.

    Attributes:
        codes: (P, r) int64 sorted literal codes, −1 padded; row 0 is the root (all −1).
        keys: (P,) int64 ``and_keys``, sorted ascending except that the root comes first.
        depth: (P,) int64 number of literals.
        score: (P,) float64 probe score (1 − R² on validation inputs; the root 0).
        n_pos, n_neg: (P,) int64 fit inputs where the AND holds and the network says +1 / −1.
        in_beam: (P, K) bool, probed in the beam search of width ``ks[j]``.
        ks: (K,) the beam widths.
        n_bits, max_depth: d and r.
    """

    codes: np.ndarray
    keys: np.ndarray
    depth: np.ndarray
    score: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray
    in_beam: np.ndarray
    ks: tuple[int, ...]
    n_bits: int
    max_depth: int

    def n_probes(self, k: int) -> int:
        """Distinct ANDs probed with beam width k, the root included."""
        return int(self.in_beam[:, self.ks.index(k)].sum())


def beam_search(fitter: ProbeFitter, literals_fit: np.ndarray, literals_val: np.ndarray,
                n_bits: int, max_depth: int, ks: tuple[int, ...], labels_fit: np.ndarray) -> Probed:
    """The beam searches of widths ``ks`` (module docstring, step 2) on one network.

    Args:
        fitter: the network's probes.
        literals_fit, literals_val: ``literal_matrix`` of the fit and validation inputs.
        n_bits, max_depth: d and r.
        ks: beam widths (≥ 1), each searched on its own; an AND is probed once for all.
        labels_fit: (n_fit,) the network's ±1 labels of the fit inputs (for the counts).

    Returns:
        Every probed AND with its score, label counts and the widths that probed it.
    """
    check_key_range(n_bits, max_depth)
    known: dict[int, float] = {}
    rows: dict[int, np.ndarray] = {}
    beams: list[set[int]] = []

    def score(codes: np.ndarray) -> np.ndarray:
        keys = and_keys(codes, n_bits)
        new = np.array([key not in known for key in keys.tolist()], dtype=bool)
        for start in range(0, int(new.sum()), CHUNK):
            batch = codes[new][start:start + CHUNK]
            t_fit = 2.0 * and_values(literals_fit, batch).astype(np.float32) - 1.0
            t_val = 2.0 * and_values(literals_val, batch).astype(np.float32) - 1.0
            for key, row, value in zip(and_keys(batch, n_bits).tolist(), batch, fitter.scores(t_fit, t_val)):
                known[key], rows[key] = float(value), row
        return np.array([known[key] for key in keys.tolist()])

    for k in ks:
        beam = {0}
        frontier = np.zeros((1, 0), dtype=np.int64)  # the root
        for depth in range(1, max_depth + 1):
            candidates = extensions(frontier, n_bits)
            scores = score(candidates)
            beam.update(and_keys(candidates, n_bits).tolist())
            if depth < max_depth:  # the k best, ties broken by key (lowest first)
                order = np.lexsort((and_keys(candidates, n_bits), scores))[:k]
                frontier = candidates[order]
        beams.append(beam)

    keys = np.array(sorted(rows), dtype=np.int64)
    codes = np.full((len(keys) + 1, max_depth), -1, dtype=np.int64)
    for i, key in enumerate(keys.tolist()):
        codes[i + 1, : len(rows[key])] = rows[key]
    all_keys = np.concatenate([[0], keys])
    positive = labels_fit > 0
    n_pos, n_neg = np.zeros(len(codes), np.int64), np.zeros(len(codes), np.int64)
    for start in range(0, len(codes), CHUNK):
        holds = and_values(literals_fit, codes[start:start + CHUNK])  # (n_fit, CHUNK)
        n_pos[start:start + CHUNK] = holds[positive].sum(axis=0)
        n_neg[start:start + CHUNK] = holds[~positive].sum(axis=0)
    return Probed(
        codes=codes, keys=all_keys, depth=(codes >= 0).sum(axis=1),
        score=np.concatenate([[0.0], [known[key] for key in keys.tolist()]]),
        n_pos=n_pos, n_neg=n_neg,
        in_beam=np.array([[key in beam for beam in beams] for key in all_keys.tolist()], dtype=bool).reshape(-1, len(ks)),
        ks=tuple(ks), n_bits=n_bits, max_depth=max_depth)


def best_tree(probed: Probed, k: int) -> TreeArrays:
    """The dynamic program of the module docstring (step 3) over the ANDs probed at width k.

    Returns:
        A binary-kind tree (classes −1, +1; threshold 0; left = the ¬x_i child); its value
        and ``n_node_samples`` are the network's labels on the fit inputs reaching each node.
    """
    mask = probed.in_beam[:, probed.ks.index(k)]
    d, r = probed.n_bits, probed.max_depth
    correct = np.maximum(probed.n_pos, probed.n_neg).astype(np.float64)
    best = np.where(mask, correct, -np.inf)  # most fit labels matched below each AND
    split = np.full(len(mask), -1, dtype=np.int64)  # the variable each AND splits on, -1 = leaf
    order = np.argsort(probed.keys)
    sorted_keys = probed.keys[order]
    for depth in range(r - 1, -1, -1):
        rows = np.flatnonzero(mask & (probed.depth == depth))
        if not len(rows):
            continue
        codes = probed.codes[rows, :depth]  # (n, depth)
        children = np.full((len(rows), d, 2), -1, dtype=np.int64)  # row of A ∧ ¬x_i, A ∧ x_i
        for sign in (0, 1):  # code 2i + 1 is ¬x_i (the left child), 2i is x_i
            literal = 2 * np.arange(d) + (1 - sign)
            grown = np.concatenate([np.repeat(codes, d, axis=0), np.tile(literal, len(rows))[:, None]], axis=1)
            grown_keys = and_keys(np.sort(grown, axis=1), d)  # -1 pads add 0: the padded rows' keys
            at = np.clip(np.searchsorted(sorted_keys, grown_keys), 0, len(sorted_keys) - 1)
            found = (sorted_keys[at] == grown_keys).reshape(len(rows), d)
            children[:, :, sign] = np.where(found, order[at].reshape(len(rows), d), -1)
        on_path = np.zeros((len(rows), d), dtype=bool)
        for column in range(depth):
            on_path[np.arange(len(rows)), codes[:, column] // 2] = True
        usable = (children >= 0).all(axis=2) & ~on_path
        usable &= mask[np.maximum(children, 0)].all(axis=2)
        value = np.where(usable, best[np.maximum(children[:, :, 0], 0)] + best[np.maximum(children[:, :, 1], 0)],
                         -np.inf)
        choice = np.argmax(value, axis=1)  # the lowest i among ties
        better = value[np.arange(len(rows)), choice] > correct[rows]
        best[rows] = np.where(better, value[np.arange(len(rows)), choice], correct[rows])
        split[rows] = np.where(better, choice, -1)
    return _assemble(probed, split, sorted_keys, order)


def _assemble(probed: Probed, split: np.ndarray, sorted_keys: np.ndarray, order: np.ndarray) -> TreeArrays:
    """The tree the DP chose, nodes in preorder from the root (row 0)."""
    d = probed.n_bits
    left, right, feature, counts = [], [], [], []

    def row_of(codes: list[int]) -> int:
        padded = np.full((1, probed.max_depth), -1, dtype=np.int64)
        padded[0, : len(codes)] = sorted(codes)
        return int(order[np.searchsorted(sorted_keys, and_keys(padded, d)[0])])

    def grow(row: int) -> int:
        node = len(left)
        left.append(LEAF), right.append(LEAF), feature.append(UNDEFINED_FEATURE)
        counts.append((probed.n_neg[row], probed.n_pos[row]))
        if split[row] >= 0:
            i = int(split[row])
            feature[node] = i
            codes = [int(c) for c in probed.codes[row] if c >= 0]
            left[node] = grow(row_of(codes + [2 * i + 1]))
            right[node] = grow(row_of(codes + [2 * i]))
        return node

    grow(0)
    return from_counts(left, right, feature, np.asarray(counts))


class ProbingDistiller:
    """The probing distiller, scikit-learn style (beside ``distillers.CartDistiller``).

    Args:
        max_depth: the tree depth r (ANDs of up to r literals are probed).
        ks: the beam widths; one search each, sharing every probe (``beam_search``).
        ridge: the probes' λ (relative to the number of fit inputs).

    Attributes (after ``fit``):
        trees_: beam width -> its distilled ``TreeArrays``.
        tree_: the tree of the widest beam.
        probed_: every probed AND (``Probed``); n_probes_: width -> ANDs probed.
        n_units_: hidden units probed (non-constant on the fit inputs).
    """

    def __init__(self, max_depth: int, ks: tuple[int, ...] = (10,), ridge: float = 1e-3):
        self.max_depth, self.ks, self.ridge = max_depth, tuple(ks), ridge

    def fit(self, x: np.ndarray, y_net: np.ndarray, z: np.ndarray, x_val: np.ndarray, z_val: np.ndarray):
        """Fit to ±1 inputs x (n, d), the network's ±1 labels y_net (n,) and its hidden
        representation z (n, m); probes are scored on x_val (n', d), z_val (n', m). Returns self."""
        x, x_val = np.asarray(x), np.asarray(x_val)
        fitter = ProbeFitter(z, z_val, self.ridge)
        self.n_units_ = fitter.n_units
        self.probed_ = beam_search(fitter, literal_matrix(x), literal_matrix(x_val), x.shape[1], self.max_depth,
                                   self.ks, np.asarray(y_net))
        self.trees_ = {k: best_tree(self.probed_, k) for k in self.ks}
        self.n_probes_ = {k: self.probed_.n_probes(k) for k in self.ks}
        self.tree_ = self.trees_[max(self.ks)]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Tree predictions (n,) of the widest beam's tree for inputs x (n, d)."""
        return predict(self.tree_, x)
