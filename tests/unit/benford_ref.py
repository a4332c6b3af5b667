# Independent reference for the Benford statistics: Pearson chi-square, MAD, Nigrini z, and
# the chi-square upper tail by the series of the regularized lower incomplete gamma function.
import math, sys
def gammq(a, x):
    # Q(a,x) = 1 - P(a,x); P by its power series (Abramowitz & Stegun 6.5.29), or Q by a
    # continued fraction (Lentz) for x > a+1
    if x <= 0: return 1.0
    if x < a + 1:
        s = term = 1.0 / a; ap = a
        for _ in range(100000):
            ap += 1; term *= x / ap; s += term
            if abs(term) < abs(s) * 1e-17: break
        return 1 - s * math.exp(-x + a * math.log(x) - math.lgamma(a))
    b = x + 1 - a; c = 1e300; d = 1 / b; h = d
    for i in range(1, 100000):
        an = -i * (i - a); b += 2
        d = an * d + b; d = d if abs(d) > 1e-300 else 1e-300
        c = b + an / c; c = c if abs(c) > 1e-300 else 1e-300
        d = 1 / d; de = d * c; h *= de
        if abs(de - 1) < 1e-16: break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h
def chi2q(x, df): return gammq(df / 2, x / 2)
def stats(counts, lo):
    n = sum(counts); chi = 0; sad = 0; zs = []
    for i, k in enumerate(counts):
        d = lo + i; p = math.log10(1 + 1 / d); e = n * p
        chi += (k - e) ** 2 / e; sad += abs(k / n - p)
        dev = abs(k / n - p); cc = 1 / (2 * n)
        if cc < dev: dev -= cc
        zs.append(dev / math.sqrt(p * (1 - p) / n))
    df = len(counts) - 1
    return n, chi, df, chi2q(chi, df), sad / len(counts), zs
if __name__ == '__main__':
    c = [30, 18, 12, 10, 8, 7, 6, 5, 4]
    n, chi, df, p, mad, zs = stats(c, 1)
    print(n, repr(chi), df, repr(p), repr(mad)); print([round(z, 10) for z in zs])
    c2 = [ (i * 7) % 13 + 1 for i in range(90)]
    n, chi, df, p, mad, zs = stats(c2, 10)
    print(c2); print(n, repr(chi), df, repr(p), repr(mad)); print(repr(zs[0]), repr(zs[89]))
    for x, df in ((15.507, 8), (20.090, 8), (112.022, 89), (1.0, 1), (3.0, 3)):
        print(x, df, repr(chi2q(x, df)))
