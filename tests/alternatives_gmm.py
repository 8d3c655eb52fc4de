"""Correct lesson 3 implementations written differently from the reference (loops, lists, scipy, float32)."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


def log_gaussian_pdf(X, mu, Sigma):
    return [float(multivariate_normal(mu, Sigma).logpdf(x)) for x in X]


def e_step(X, phi, mu, Sigma):
    out = np.zeros((len(X), len(phi)), dtype=np.float32)
    for i, x in enumerate(X):
        lp = np.array([np.log(phi[j]) + multivariate_normal(mu[j], Sigma[j]).logpdf(x) for j in range(len(phi))])
        out[i] = np.exp(lp - logsumexp(lp))
    return out


def m_step(X, w):
    X = np.asarray(X)
    n, _d = X.shape
    k = w.shape[1]
    phi, mu, Sigma = [], [], []
    for j in range(k):
        nk = sum(w[i, j] for i in range(n))
        m = sum(w[i, j] * X[i] for i in range(n)) / nk
        S = sum(w[i, j] * np.outer(X[i] - m, X[i] - m) for i in range(n)) / nk
        phi.append(nk / n)
        mu.append(m)
        Sigma.append(S)
    return phi, mu, Sigma


def log_likelihood(X, phi, mu, Sigma):
    return float(
        sum(logsumexp([np.log(p) + multivariate_normal(m, S).logpdf(x) for p, m, S in zip(phi, mu, Sigma)]) for x in X)
    )


def em_mog(X, k, max_iters=100, tol=1e-6, rng=None, init=None, reg_covar=1e-6):
    phi, mu, Sigma = init
    ll = [log_likelihood(X, phi, mu, Sigma)]
    elbos = []
    for _it in range(max_iters):
        w = e_step(X, phi, mu, Sigma)
        phi, mu, Sigma = m_step(X, w)
        Sigma = [S + reg_covar * np.eye(len(S)) for S in Sigma]
        lp = np.array([np.log(phi[j]) + np.asarray(log_gaussian_pdf(X, mu[j], Sigma[j])) for j in range(k)]).T
        w = np.asarray(w, dtype=float)
        elbos.append(float(np.sum(w * lp) - np.sum(w[w > 0] * np.log(w[w > 0]))))
        ll.append(float(log_likelihood(X, phi, mu, Sigma)))
        if ll[-1] - ll[-2] < tol:
            break
    return phi, mu, Sigma, e_step(X, phi, mu, Sigma), ll, elbos


def sample_gmm(phi, mu, Sigma, n, rng):
    cdf = np.cumsum(phi)  # inverse-CDF draws of z, a list back
    z = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(phi) - 1)
    X = np.zeros((n, len(mu[0])), dtype=np.float32)
    for j in range(len(phi)):
        X[z == j] = rng.multivariate_normal(mu[j], Sigma[j], size=int(np.sum(z == j)))
    return X, z.tolist()
