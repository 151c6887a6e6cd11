"""ANDs of input literals on ±1 inputs, as the probing distiller (``distill.probing``) handles them.

An AND is a row of sorted literal codes, code 2i for x_i (x_i = +1) and 2i + 1 for ¬x_i
(x_i = −1), padded with −1 at the end (the empty AND, the tree's root, is all −1); each has
one int64 key (``and_keys``), Σ_t (code_t + 1)·(2d + 1)^t, so a padded row and the same row
unpadded share a key. ``same_function`` compares two trees through the ANDs of their leaves.
"""

from __future__ import annotations

from math import comb

import numpy as np

from learnscope.distill.trees import TreeArrays


def literal_matrix(x: np.ndarray) -> np.ndarray:
    """(n, 2d) bool: column 2i is x_i > 0, column 2i + 1 is x_i < 0."""
    x = np.asarray(x)
    return np.stack([x > 0, x < 0], axis=2).reshape(len(x), -1)


def and_values(literals: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """(n, P) bool: AND of the literal columns each row of ``codes`` (P, j) names; −1 pads.

    One product: the literals of x that hold, counted per AND (``literals`` as float32 (n, 2d)
    @ the (2d, P) incidence of the ANDs), equal the AND's length exactly where it holds.
    """
    incidence = np.zeros((literals.shape[1], len(codes)), dtype=np.float32)
    probe, column = np.nonzero(codes >= 0)
    incidence[codes[probe, column], probe] = 1.0
    length = (codes >= 0).sum(axis=1)
    return literals.astype(np.float32) @ incidence == length


def and_keys(codes: np.ndarray, n_bits: int) -> np.ndarray:
    """(P,) int64 key of each AND (rows of sorted codes, −1 pads): Σ_t (code_t + 1)·(2d + 1)^t."""
    base = 2 * n_bits + 1
    check_key_range(n_bits, codes.shape[1])
    weights = base ** np.arange(codes.shape[1], dtype=np.int64)
    return ((codes + 1).astype(np.int64) * weights).sum(axis=1)


def check_key_range(n_bits: int, depth: int) -> None:
    if depth * np.log2(2 * n_bits + 1) >= 62:
        raise ValueError(f"ANDs of {depth} literals of {n_bits} bits do not fit an int64 key; "
                         f"use depth <= {int(62 / np.log2(2 * n_bits + 1))}")


def n_ands(n_bits: int, depth: int) -> int:
    """Σ_{i≤depth} 2^i·C(n_bits, i): every AND of at most ``depth`` literals (the root included)."""
    return sum(2 ** i * comb(n_bits, i) for i in range(depth + 1))


def extensions(codes: np.ndarray, n_bits: int) -> np.ndarray:
    """(Q, j + 1) the distinct one-literal extensions of the ANDs ``codes`` (P, j) (sorted rows,
    no −1 padding), each with a literal on a variable not in it; rows sorted by key."""
    n, j = codes.shape
    literal = np.arange(2 * n_bits)
    grown = np.concatenate([np.repeat(codes, 2 * n_bits, axis=0), np.tile(literal, n)[:, None]], axis=1)
    free = ~(grown[:, :j] // 2 == grown[:, j:] // 2).any(axis=1)
    grown = np.sort(grown[free], axis=1)
    keys = and_keys(grown, n_bits)
    _, first = np.unique(keys, return_index=True)
    return grown[first]



def same_function(a: TreeArrays, b: TreeArrays) -> bool:
    """Whether two trees with threshold-0 splits compute the same function of ±1 inputs.

    Exact, without enumerating inputs: every leaf of ``a`` is the region its path fixes;
    ``b`` must be constant on it with ``a``'s label, i.e. every leaf of ``b`` reachable under
    that partial assignment (both branches where it leaves a variable free) has that label.
    Needs no variable twice on a path (as in every tree of ±1 inputs split at 0).
    """
    label_a, label_b = _leaf_labels(a), _leaf_labels(b)
    for leaf, path in _leaf_paths(a):
        stack = [0]
        while stack:
            node = stack.pop()
            if b.is_leaf[node]:
                if label_b[node] != label_a[leaf]:
                    return False
                continue
            var = int(b.feature[node])
            if var in path:
                stack.append(int(b.children_left[node] if path[var] < 0 else b.children_right[node]))
            else:
                stack += [int(b.children_left[node]), int(b.children_right[node])]
    return True


def _leaf_labels(tree: TreeArrays) -> np.ndarray:
    return tree.classes[tree.value[:, 0, :].argmax(axis=1)]


def _leaf_paths(tree: TreeArrays) -> list[tuple[int, dict[int, int]]]:
    """(leaf, {variable: −1 or +1 on its path}) for every leaf."""
    out, stack = [], [(0, {})]
    while stack:
        node, path = stack.pop()
        if tree.is_leaf[node]:
            out.append((node, path))
            continue
        var = int(tree.feature[node])
        stack += [(int(tree.children_left[node]), {**path, var: -1}),
                  (int(tree.children_right[node]), {**path, var: +1})]
    return out
