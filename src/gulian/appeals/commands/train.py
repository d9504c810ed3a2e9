"""``gulian appeals train``: retrain the appeal classifier from the corpus and handlers' corrections (docs/cli.md).

Fits ``gulian.appeals.classifier`` on ``appeals/data/corpus.csv`` plus every confirmed appeal whose
category differs from the suggestion, prints the accuracy on the held-out 20 % of the corpus next
to the most-frequent-class baseline, and saves the model to ``VAR_DIR/appeals/classifier.joblib``
(running web processes pick the new file up on their next suggestion).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gulian.appeals import classifier

HELP = "重新训练诉求分类模型（语料 + 办理人纠正）/ retrain the appeal classifier (corpus + handlers' corrections)"


def add_arguments(parser: CommandParser) -> None:
    """The options of ``gulian appeals train``."""
    parser.add_argument("--dry-run", action="store_true",
                        help="只计算留出集准确率，不保存模型 / report the held-out accuracy, save nothing")  # fmt: skip
    parser.add_argument(
        "--evaluate",
        action="store_true",
        help="另列各类别召回率与宏平均F1（仅语料）/ also print per-category recall and macro-F1",
    )
    parser.add_argument("--json", action="store_true", help="以 JSON 输出 / print the report as JSON")


def run(command: BaseCommand, options: dict) -> None:
    """Train (and save unless --dry-run), then print the report."""
    from gulian.appeals.models import Category

    try:
        report = classifier.train(save=not options.get("dry_run"))
        figures = classifier.evaluate() if options.get("evaluate") else None
    except (OSError, ValueError) as e:
        raise CommandError(f"训练失败 / training failed: {e}")
    if options.get("json"):
        out = {
            "model": classifier.MODEL_NAME, "n_corpus": report.n_corpus, "n_corrections": report.n_corrections,
            "n_test": report.n_test, "heldout_accuracy": round(report.heldout_accuracy, 4),
            "baseline_accuracy": round(report.baseline_accuracy, 4), "path": str(report.path) if report.path else None,
            "seconds": round(report.seconds, 2),
        }  # fmt: skip
        if figures is not None:
            out["evaluate"] = figures
        command.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
        return
    command.stdout.write(f"诉求分类模型 / appeal classifier: {classifier.MODEL_NAME}")
    command.stdout.write(f"  语料 {report.n_corpus} 条，办理人纠正 {report.n_corrections} 条 / "
                         f"corpus {report.n_corpus}, handlers' corrections {report.n_corrections}")  # fmt: skip
    command.stdout.write(f"  留出集准确率 / held-out accuracy: {report.heldout_accuracy:.1%}（{report.n_test} 条 / texts；"
                         f"多数类基线 / most-frequent baseline {report.baseline_accuracy:.1%}）")  # fmt: skip
    if figures is not None:
        labels = dict(Category.choices)
        command.stdout.write(
            f"  宏平均F1 / macro-F1: {figures['macro_f1']:.3f}；各类别召回率 / recall per category:"
        )
        for code, recall in figures["recall"].items():
            command.stdout.write(f"    {labels[code]} ({code}): {recall:.0%}")
    if report.path is None:
        command.stdout.write(f"未保存（--dry-run）/ not saved (--dry-run); {report.seconds:.1f} 秒 / s")
    else:
        command.stdout.write(
            command.style.SUCCESS(f"已保存 / saved: {report.path}（{report.seconds:.1f} 秒 / s）")
        )
