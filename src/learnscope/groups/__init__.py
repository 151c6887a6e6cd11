"""Finite groups and their real irreducible representations, for group-composition tasks.

A ``FiniteGroup`` is its multiplication table (element 0 is the identity) plus every real
irrep as an array of orthogonal matrices ``rho(g)``. ``energy_per_irrep`` splits a function on
the group (e.g. a neuron's embedding weights, indexed by element) into the Peter–Weyl
components: the spans of each irrep's matrix coefficients ``g -> rho(g)_ij``, which are
mutually orthogonal and together span R^|G|. This is the per-neuron measurement of Chughtai
et al. 2023 ("A toy model of universality", §4) and Morwani et al. 2024 ("Feature emergence
via margin maximization", §5).

Example:
    >>> g = group("dihedral:4")                    # D4, order 8
    >>> g.labels[5], [r.name for r in g.irreps]
    ('s r1', ['trivial', 'sign', 'alt', 'alt_sign', 'rot1'])
    >>> energy_per_irrep(g.irreps[4].matrices[:, 0, 1], g).round(3)
    array([0., 0., 0., 0., 1.])
"""

from learnscope.groups.base import KINDS, FiniteGroup, Irrep, energy_per_irrep
from learnscope.groups.families import FAMILIES, cyclic, dihedral, group, symmetric

__all__ = ["FAMILIES", "KINDS", "FiniteGroup", "Irrep", "cyclic", "dihedral", "energy_per_irrep", "group", "symmetric"]
