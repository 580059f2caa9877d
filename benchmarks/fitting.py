"""The two fits behind the calibrator (calibrate.py): plain and conditional logistic regression,
in numpy (and scipy's L-BFGS for the second). Benchmark-only: askseed reads their weights."""

from __future__ import annotations

import numpy as np

L2 = 1e-3  # on the sentence scorer's weights


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Weights and bias minimising log loss + l2/2 * |weights|^2 (mean over rows), by Newton."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (p - y) / len(y) + penalty * theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design / len(y) + np.diag(penalty)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(theta)), gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def fit_choice(
    x: np.ndarray, y: np.ndarray, owner: np.ndarray, l2: float = L2
) -> tuple[np.ndarray, float]:
    """Weights of a conditional logit: P(sentence i | its question) = softmax over the
    question's sentences of weights . x_i, fitted to put the sentences holding the answer
    first (questions with no such sentence teach nothing and are left out). Unlike a plain
    logistic regression it learns what makes one sentence beat its neighbours, which is the
    choice of the quote. L-BFGS from scipy, a benchmark-only dependency."""
    from scipy.optimize import minimize

    positive = np.zeros(owner.max() + 1)
    np.maximum.at(positive, owner, y)
    keep = positive[owner] > 0
    x, y, owner = x[keep], y[keep], owner[keep]
    _, group = np.unique(owner, return_inverse=True)
    groups = group.max() + 1

    def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
        scores = x @ weights
        top = np.full(groups, -np.inf)
        np.maximum.at(top, group, scores)
        exp = np.exp(scores - top[group])
        total = np.zeros(groups)
        np.add.at(total, group, exp)
        right = np.zeros(groups)
        np.add.at(right, group, exp * y)
        value = -(np.log(right) - np.log(total)).sum() / groups + l2 / 2 * weights @ weights
        pull = exp * y / right[group] - exp / total[group]
        gradient = -(pull[:, None] * x).sum(axis=0) / groups + l2 * weights
        return value, gradient

    result = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return result.x, 0.0
