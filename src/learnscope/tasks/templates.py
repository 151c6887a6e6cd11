"""Template tasks: relational reasoning with abstract symbols (Boix-Adsera et al., ICLR 2024, §2).

A template is a string of wildcards (capital letters), e.g. ``"ABA"``; a sample replaces
each distinct wildcard by a distinct symbol drawn uniformly from an alphabet, so ``"ABA"``
gives sequences (s, t, s) with s ≠ t. Each template carries a label (±1 in the paper, kind
"regression": predicting 0 gives MSE 1 on balanced ±1 labels, the chance level).

The training alphabet (``n_symbols`` symbols, ids 0 … n_symbols − 1; the sweep axis n) and
the test alphabet (``n_test_symbols`` other symbols, ids n_symbols … V − 1) are disjoint, so
the test set measures generalisation to unseen symbols. Input layout: one one-hot over the
whole vocabulary V = n_symbols + n_test_symbols per position, position-major, so
``x.reshape(n, seq_len, V)`` gives the sequence of one-hots and ``n_inputs = seq_len · V``.

A sample draws a label value uniformly (labels balanced), then a template uniformly among
those with that label, then distinct symbols for its wildcards. Templates equal up to
renaming wildcards (``"ABA"``, ``"BAB"``, ``"CDC"``) are one template and are refused.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from learnscope.errors import config_error, require
from learnscope.tasks.base import DATA_STREAM, Task, seeded_generator

MAX_MAJORITY_LENGTH = 11  # majority:L has 2^(L−1) templates

PRESETS: dict[str, tuple[tuple[str, float], ...]] = {
    "aba_abb": (("ABA", 1.0), ("ABB", -1.0)),
    "same_different": (("AA", 1.0), ("AB", -1.0)),
    "aabb_abab": (("AABB", 1.0), ("ABAB", -1.0)),
}


def majority_templates(length: int) -> tuple[tuple[str, float], ...]:
    """Every template of ``length`` over wildcards {A, B} that starts with A (one per
    equivalence class), labelled +1 if A fills more than half the positions, else −1:
    the label says whether the first symbol is the majority symbol. ``length`` is odd.
    E.g. length 3: AAA +1, AAB +1, ABA +1, ABB −1.
    """
    rests = ["".join("AB"[(i >> b) & 1] for b in reversed(range(length - 1))) for i in range(2 ** (length - 1))]
    return tuple(("A" + rest, 1.0 if ("A" + rest).count("A") > length / 2 else -1.0) for rest in rests)


def preset(name: str) -> tuple[tuple[str, float], ...]:
    """The labelled templates of a named set: ``aba_abb``, ``same_different``, ``aabb_abab``
    or ``majority:L`` (L odd, 3 ≤ L ≤ 11; see ``majority_templates``).

    Raises:
        ValueError: an unknown name or a bad L; the message lists the known names.
    """
    if name in PRESETS:
        return PRESETS[name]
    kind, _, arg = name.partition(":")
    if kind == "majority" and arg.isascii() and arg.isdigit():
        length = int(arg)
        if length % 2 == 1 and 3 <= length <= MAX_MAJORITY_LENGTH:
            return majority_templates(length)
    raise ValueError(f"known: {', '.join(PRESETS)}, majority:L (L odd, 3 ≤ L ≤ {MAX_MAJORITY_LENGTH})")


def canonical(template: str) -> tuple[int, ...]:
    """Wildcards renamed by order of first appearance: ``"CDC"`` and ``"ABA"`` → (0, 1, 0)."""
    first: dict[str, int] = {}
    return tuple(first.setdefault(w, len(first)) for w in template)


def distinct_symbols(n: int, k: int, n_alphabet: int, generator: torch.Generator) -> torch.Tensor:
    """int64 (n, k): each row k distinct symbols of [0, n_alphabet), a uniform ordered k-subset.

    Draw j maps r ∈ [0, n_alphabet − j) to the r-th symbol not yet chosen in its row : O(n·k²)
    work and no (n, n_alphabet) array, unlike a permutation of the alphabet per row.
    """
    chosen = torch.empty(n, 0, dtype=torch.int64)  # (n, j)
    for j in range(k):
        r = torch.randint(0, n_alphabet - j, (n,), generator=generator)
        for c in torch.sort(chosen, dim=1).values.T:  # ascending: skip each chosen symbol ≤ r
            r = r + (r >= c).to(torch.int64)
        chosen = torch.cat([chosen, r[:, None]], dim=1)
    return chosen


@dataclass(frozen=True, kw_only=True)
class Templates(Task):
    """Labelled templates over disjoint train/test symbol alphabets (module docstring).

    Example (``template_set: aba_abb``, n_symbols = 3, n_test_symbols = 2, V = 5): template
    ABA with A → 2, B → 0 is the sequence (2, 0, 2), x = [0,0,1,0,0 | 1,0,0,0,0 | 0,0,1,0,0],
    y = +1; ABB with A → 1, B → 2 is (1, 2, 2), y = −1.

    Give exactly one of ``template_set`` and ``templates``.

    Attributes:
        n_symbols: size of the training alphabet (the sweep axis n).
        n_test_symbols: size of the disjoint alphabet of the test set.
        template_set: a named set (``preset``): aba_abb, same_different, aabb_abab, majority:L.
        templates: template → label, e.g. ``{ABA: 1.0, ABB: -1.0}``; at least two, of one
            length, pairwise inequivalent, labels finite.
    """

    n_symbols: int
    n_test_symbols: int
    template_set: str = ""
    templates: dict[str, float] = dataclasses.field(default_factory=dict)

    size_key = "n_symbols"

    @property
    def labelled_templates(self) -> tuple[tuple[str, float], ...]:
        """The (template, label) pairs in use, from ``template_set`` or ``templates``."""
        return preset(self.template_set) if self.template_set else tuple(self.templates.items())

    @property
    def kind(self) -> str:
        return "regression"

    @property
    def seq_len(self) -> int:
        return len(self.labelled_templates[0][0])

    @property
    def vocab(self) -> int:
        """V = n_symbols + n_test_symbols."""
        return self.n_symbols + self.n_test_symbols

    @property
    def n_inputs(self) -> int:
        return self.seq_len * self.vocab

    @property
    def n_outputs(self) -> int:
        return 1

    def check(self, path: str) -> None:
        super().check(path)
        require(bool(self.template_set) != bool(self.templates), path,
                "needs exactly one of template_set (a named set) and templates (template → label)")
        if self.template_set:
            try:
                preset(self.template_set)
            except ValueError as e:
                raise config_error(path, "template_set", self.template_set, f"is not a template set; {e}") from None
        else:
            self._check_templates(path)
        wildcards = max(len(set(t)) for t, _ in self.labelled_templates)
        for key in ("n_symbols", "n_test_symbols"):
            if getattr(self, key) < wildcards:
                raise config_error(path, key, getattr(self, key), f"must be at least {wildcards}, the most "
                                   "distinct wildcards of a template (each gets its own symbol)")

    def _check_templates(self, path: str) -> None:
        items = self.labelled_templates
        require(len(items) >= 2, f"{path}.templates", f"= {self.templates!r} must list at least two templates")
        seen: dict[tuple[int, ...], str] = {}
        for template, label in items:
            key = f"{path}.templates.{template}"
            require(template.isascii() and template.isalpha() and template.isupper(), key,
                    "is not a template: write wildcards as capital letters A–Z")
            require(len(template) == len(items[0][0]), key, f"has length {len(template)}, but "
                    f"{items[0][0]} has {len(items[0][0])}: every template must have one length")
            require(math.isfinite(label), key, f"= {label!r} must be a finite label")
            other = seen.setdefault(canonical(template), template)
            require(other == template, key, f"is equivalent to {other} (equal up to renaming wildcards); "
                    "keep one of them")

    def describe(self) -> str:
        pairs = ", ".join(f"{t} → {label:+g}" for t, label in self.labelled_templates)
        return (f"templates {pairs} over {self.n_symbols} training symbols and {self.n_test_symbols} unseen test "
                f"symbols, one-hot per position ({self.seq_len} × {self.vocab})")

    def feature_names(self) -> list[str]:
        return [f"p{p}=s{s}" for p in range(self.seq_len) for s in range(self.vocab)]

    def draw(self, n: int, offset: int, n_alphabet: int,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n samples over symbols [offset, offset + n_alphabet); x float32 (n, seq_len·V), y float32 (n,)."""
        labels = torch.tensor([label for _, label in self.labelled_templates], dtype=torch.float32)  # (T,)
        values, index = torch.unique(labels, return_inverse=True)
        probs = 1.0 / (len(values) * torch.bincount(index)[index].to(torch.float64))  # balanced labels
        which = torch.multinomial(probs, n, replacement=True, generator=generator)  # (n,)
        slots = torch.tensor([canonical(t) for t, _ in self.labelled_templates])  # (T, seq_len)
        k = int(slots.max()) + 1
        symbols = offset + distinct_symbols(n, k, n_alphabet, generator)  # (n, k)
        return self.encode(symbols.gather(1, slots[which])), labels[which]  # (n, seq_len) symbols

    def encode(self, sequences: torch.Tensor) -> torch.Tensor:
        """float32 (n, seq_len·V) position-major one-hots of int64 symbol ids (n, seq_len)."""
        return torch.nn.functional.one_hot(sequences, self.vocab).reshape(len(sequences), -1).to(torch.float32)

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n fresh samples over the training symbols."""
        return self.draw(n, 0, self.n_symbols, generator)

    def make_dataset(self) -> dict[str, np.ndarray]:
        """``n_train`` samples over the training symbols, then ``n_test`` over the test symbols.

        Returns:
            ``x_train`` (n_train, seq_len·V) float32, ``y_train`` (n_train,) float32, ``x_test``,
            ``y_test`` likewise, ``support`` (seq_len·V,) int8 ones.
        """
        generator = seeded_generator(self.data_seed, DATA_STREAM)
        x_train, y_train = self.sample(self.n_train, generator)
        x_test, y_test = self.draw(self.n_test, self.n_symbols, self.n_test_symbols, generator)
        return {"x_train": x_train.numpy(), "y_train": y_train.numpy(), "x_test": x_test.numpy(),
                "y_test": y_test.numpy(), "support": self.support_mask()}


@dataclass(frozen=True, kw_only=True)
class TemplateCopy(Templates):
    """Next-token copying (the second task kind of Boix-Adsera et al., ICLR 2024): the input
    is a template's sequence without its last token, the label is that last token, a symbol
    that already appears in the input, so predicting it means copying it.

    Example (``template_set: aba_abb``, n_symbols = 3, n_test_symbols = 2, V = 5): ABA with
    A → 2, B → 0 gives the input (2, 0), x = [0,0,1,0,0 | 1,0,0,0,0], and the label 2
    (copy position 0); ABB with A → 1, B → 2 gives (1, 2) and the label 2 (copy position 1).

    Labels are class indices over the whole vocabulary V (kind ``multiclass``, V outputs), so
    test labels are unseen symbols: the classes a network must output were never targets in
    training. The templates' ±1 labels are not used. Every template must end with a wildcard
    that appears before it (``same_different``'s AB does not: its B is new).
    """

    @property
    def kind(self) -> str:
        return "multiclass"

    @property
    def seq_len(self) -> int:
        """The input's positions: the templates' length minus the token to predict."""
        return len(self.labelled_templates[0][0]) - 1

    @property
    def n_outputs(self) -> int:
        return self.vocab

    def check(self, path: str) -> None:
        super().check(path)
        for template, _ in self.labelled_templates:
            where = f"{path}.template_set" if self.template_set else f"{path}.templates.{template}"
            require(len(template) >= 2 and template[-1] in template[:-1], where,
                    f"has template {template}, whose last wildcard does not appear before it: next-token "
                    "copying needs the token to predict in the input")

    def describe(self) -> str:
        templates = ", ".join(t for t, _ in self.labelled_templates)
        return (f"next-token copying: templates {templates} without their last token, which is the label, over "
                f"{self.n_symbols} training symbols and {self.n_test_symbols} unseen test symbols "
                f"({self.seq_len} × {self.vocab} one-hots, {self.vocab} classes)")

    def draw(self, n: int, offset: int, n_alphabet: int,
             generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n samples over symbols [offset, offset + n_alphabet); x float32 (n, seq_len·V), y int64 (n,)."""
        which = torch.randint(len(self.labelled_templates), (n,), generator=generator)  # templates uniform
        slots = torch.tensor([canonical(t) for t, _ in self.labelled_templates])  # (T, seq_len + 1)
        symbols = offset + distinct_symbols(n, int(slots.max()) + 1, n_alphabet, generator)
        sequences = symbols.gather(1, slots[which])  # (n, seq_len + 1)
        return self.encode(sequences[:, :-1]), sequences[:, -1]
