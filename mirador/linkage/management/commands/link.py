"""`mirador link dedupe FILE --out DIR` and `mirador link pairs LEFT RIGHT --out DIR`: batch
record linkage of CSV or Parquet files with the engine of mirador.linkage.engine. Private
linkage across countries (`keygen`, `encode`, `match-encoded`) is in
mirador.linkage.privacy_command.

Writes pairs (with the match weight of each comparison, its reasons) and clusters, in the
input's format (or --format), and run.json naming the model used. Progress goes to stderr, a
summary to stdout. Bad input stops with one line naming the file, row and column; no row is
dropped without being counted in the summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from mirador.core.audit import request_context
from mirador.core.errors import ApplicationError
from mirador.linkage import engine, privacy_command
from mirador.linkage.selectors import linkage_model_get
from mirador.linkage.services import linkage_model_save

PARQUET_SUFFIXES = (".parquet", ".pq")


def too_many_pairs_message(error: engine.TooManyPairsError) -> str:
    """What the command (and a run through the API) says when the memory guard refuses."""
    return _(
        "The blocking rules would compare about %(projected)s pairs of records, "
        "more than the limit of %(limit)s (MIRADOR_LINKAGE_MAX_PAIRS or "
        "--max-pairs): nothing was scored. Split the input or raise the limit if "
        "the machine has the memory."
    ) % {"projected": f"{error.projected:,}", "limit": f"{error.limit:,}"}


class Command(BaseCommand):
    help = (
        "Find the records that are the same person. mirador link dedupe FILE --out DIR "
        "(within one file) or mirador link pairs LEFT RIGHT --out DIR (between two files); "
        "CSV or Parquet with the columns record_id, given_names, first_surname, "
        "second_surname, birth_year, birth_month, birth_day (or birth_date), sex, "
        "document_number, place (see docs/linkage.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "mode",
            choices=("dedupe", "pairs", *privacy_command.PRIVATE_MODES),
            help="dedupe or pairs; keygen, encode or match-encoded (private linkage, "
            "docs/private-linkage.md)",
        )
        parser.add_argument(
            "files",
            nargs="*",
            type=Path,
            help="one file (dedupe, encode) or two (pairs, match-encoded); none for keygen",
        )
        parser.add_argument("--out", type=Path, required=True, help="directory for the results")
        parser.add_argument(
            "--model",
            help="a saved model: NAME (its latest version), NAME:VERSION or a JSON file; "
            "without it a model is trained on the input",
        )
        parser.add_argument(
            "--save-model", metavar="NAME", help="save the model trained on the input as NAME"
        )
        parser.add_argument(
            "--threshold",
            type=float,
            default=engine.DEFAULT_THRESHOLD,
            help=f"match probability of the pairs kept (default {engine.DEFAULT_THRESHOLD})",
        )
        parser.add_argument(
            "--max-pairs",
            type=int,
            help="refuse to score more candidate pairs than this "
            "(default MIRADOR_LINKAGE_MAX_PAIRS, or what half of the memory holds)",
        )
        parser.add_argument(
            "--extra-column",
            action="append",
            default=[],
            dest="extra_columns",
            help="another column to compare as free text (may be repeated)",
        )
        parser.add_argument(
            "--format", choices=("csv", "parquet"), help="format of the results (default: input's)"
        )
        parser.add_argument(
            "--key-file", type=Path, help="private linkage: the agreement's key (keygen makes one)"
        )
        parser.add_argument(
            "--key-env",
            metavar="VARIABLE",
            help="private linkage: read the key from this environment variable "
            "(default MIRADOR_LINKAGE_KEY) when there is no --key-file",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        mode: str = options["mode"]
        files: list[Path] = options["files"]
        if mode in privacy_command.PRIVATE_MODES:
            privacy_command.handle(self, mode, files, options)
            return
        expected = 1 if mode == "dedupe" else 2
        if len(files) != expected:
            raise CommandError(
                _("link dedupe takes one file, link pairs two (LEFT RIGHT); %(count)d given.")
                % {"count": len(files)}
            )
        threshold: float = options["threshold"]
        if not 0 < threshold <= 1:
            raise CommandError(_("--threshold must be a probability above 0 and at most 1."))
        if options["model"] and options["save_model"]:
            raise CommandError(_("Give either --model (score with a saved model) or --save-model."))
        model, model_label = self._model(options["model"])
        extra_columns = list(options["extra_columns"])
        if model is not None:
            extra_columns = [
                c["output_column_name"].removeprefix("x_")
                for c in model["comparisons"]
                if c["output_column_name"].startswith("x_")
            ]
        frames: list[pd.DataFrame] = []
        read_summaries: list[str] = []
        for index, path in enumerate(files):
            raw, blank = self._read(path)
            source = path.name
            if mode == "pairs" and files[0].name == files[1].name:
                source = ("left", "right")[index]
            frames.append(self._prepare(path, raw, extra_columns=extra_columns, source=source))
            read_summaries.append(
                _("%(file)s: %(rows)d rows read, %(skipped)d skipped (blank lines)")
                % {"file": path, "rows": len(raw) + blank, "skipped": blank}
            )
            self.stderr.write(read_summaries[-1])
        out: Path = options["out"]
        suffix = options["format"] or (
            "parquet" if files[0].suffix.lower() in PARQUET_SUFFIXES else "csv"
        )

        def progress(message: str) -> None:
            self.stderr.write(f"  {message}")

        run_options: dict[str, Any] = {
            "model": model,
            "threshold": threshold,
            "max_pairs": options["max_pairs"],
            "extra_columns": extra_columns,
            "progress": progress,
            "prepared": True,
        }
        try:
            if mode == "dedupe":
                outcome = engine.dedupe(frames[0], **run_options)
            else:
                outcome = engine.link(frames[0], frames[1], **run_options)
        except engine.TooManyPairsError as error:
            raise CommandError(too_many_pairs_message(error)) from None
        except engine.InputError as error:
            raise CommandError(self._input_message(files[0], error)) from None
        if not outcome.trained and model is None:
            model_label = _("none (no two records to compare)")
        if outcome.trained:
            if options["save_model"]:
                saved = self._save(options["save_model"], outcome, files)
                model_label = str(saved)
            else:
                model_label = _("trained on this input (model.json, not saved)")
        self._write(out, suffix, outcome, model_label=model_label, files=files)
        clusters = outcome.clusters
        linked = clusters[clusters["cluster_size"] > 1]
        self.stdout.write(
            _(
                "%(read)s. %(pairs)d pairs at match probability %(threshold)s or more; "
                "%(clusters)d clusters of two or more records (%(records)d records). "
                "Model: %(model)s. Results in %(out)s (%(files)s), %(seconds).1f s."
            )
            % {
                "read": "; ".join(read_summaries),
                "pairs": len(outcome.pairs),
                "threshold": threshold,
                "clusters": linked["cluster_id"].nunique(),
                "records": len(linked),
                "model": model_label,
                "out": out,
                "files": f"pairs.{suffix}, clusters.{suffix}, run.json",
                "seconds": time.perf_counter() - started,
            }
        )

    # --- Steps ------------------------------------------------------------------------------

    def _model(self, reference: str | None) -> tuple[dict[str, Any] | None, str]:
        if not reference:
            return None, ""
        path = Path(reference)
        if path.suffix.lower() == ".json":
            try:
                return json.loads(path.read_text(encoding="utf-8")), str(path)
            except (OSError, ValueError) as error:
                raise CommandError(
                    _("%(file)s: not a readable model (%(reason)s).")
                    % {"file": path, "reason": error.__class__.__name__}
                ) from None
        name, _sep, version = reference.partition(":")
        if version and not version.isdigit():
            raise CommandError(_("--model takes NAME or NAME:VERSION (a number)."))
        try:
            saved = linkage_model_get(name=name, version=int(version) if version else None)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        return saved.settings, str(saved)

    def _read(self, path: Path) -> tuple[pd.DataFrame, int]:
        """The file's rows as text, and how many blank lines were left out."""
        if not path.exists():
            raise CommandError(_("%(file)s: no such file.") % {"file": path})
        if path.is_dir():
            raise CommandError(_("%(file)s: is a directory, not a file.") % {"file": path})
        if path.stat().st_size == 0:
            raise CommandError(_("%(file)s: the file is empty.") % {"file": path})
        try:
            if path.suffix.lower() in PARQUET_SUFFIXES:
                frame = pd.read_parquet(path)
                frame = frame.astype("string")
            else:
                frame = pd.read_csv(
                    path,
                    dtype=str,
                    keep_default_na=False,
                    skip_blank_lines=False,
                    encoding="utf-8-sig",
                )
        except UnicodeDecodeError as error:
            raise CommandError(
                _("%(file)s: not UTF-8 text (byte %(position)d).")
                % {"file": path, "position": error.start}
            ) from None
        except (ValueError, OSError) as error:
            reason = (str(error).strip().splitlines() or [error.__class__.__name__])[0]
            raise CommandError(
                _("%(file)s: not a readable CSV or Parquet file (%(reason)s).")
                % {"file": path, "reason": reason}
            ) from None
        frame.columns = [str(column).strip().lower() for column in frame.columns]
        frame = frame.replace("", pd.NA) if len(frame) else frame
        blank = frame.isna().all(axis=1) if len(frame.columns) else pd.Series(dtype=bool)
        frame = frame[~blank] if len(blank) else frame
        if len(frame) == 0:
            raise CommandError(_("%(file)s: the file has no records.") % {"file": path})
        if engine.RECORD_ID not in frame.columns:
            # Without ids, a record is its row number in the file.
            frame = frame.assign(record_id=(frame.index.to_series() + 1).astype(str).to_numpy())
            self.stderr.write(
                _("%(file)s: no record_id column, records are named by their row number.")
                % {"file": path}
            )
        return frame.reset_index(drop=True), int(blank.sum()) if len(blank) else 0

    def _prepare(
        self, path: Path, raw: pd.DataFrame, *, extra_columns: list[str], source: str
    ) -> pd.DataFrame:
        try:
            return engine.prepare(raw, extra_columns=extra_columns, source=source)
        except engine.InputError as error:
            if error.code == "missing_column":
                raise CommandError(
                    _("%(file)s: the column “%(column)s” is missing (columns found: %(found)s).")
                    % {
                        "file": path,
                        "column": error.params.get("column", ""),
                        "found": ", ".join(raw.columns),
                    }
                ) from None
            raise CommandError(self._input_message(path, error)) from None

    def _input_message(self, path: Path, error: engine.InputError) -> str:
        params = {"file": path, **error.params}
        templates = {
            "empty": _("%(file)s: the file has no records."),
            "missing_id": _("%(file)s, row %(row)s, column record_id: the record has no id."),
            "duplicate_id": _(
                "%(file)s, row %(row)s, column record_id: the id “%(value)s” is already used "
                "by an earlier row."
            ),
            "bad_date": _(
                "%(file)s, row %(row)s, column %(column)s: “%(value)s” is not a valid date of "
                "birth (a year from 1880, a month 1 to 12, a day 1 to 31; birth_date as YYYY, "
                "YYYY-MM, YYYY-MM-DD or DD/MM/YYYY)."
            ),
            "no_values": _("%(file)s: no record has a name, a date of birth or a document number."),
        }
        template = templates.get(error.code)
        if template is None:
            return f"{path}: {error}"
        return template % params

    def _save(self, name: str, outcome: engine.LinkageOutcome, files: list[Path]) -> Any:
        description = _("%(files)s: %(records)d records, trained on %(date)s") % {
            "files": ", ".join(path.name for path in files),
            "records": outcome.records,
            "date": timezone.now().date().isoformat(),
        }
        metrics = {
            "records": outcome.records,
            "pairs": len(outcome.pairs),
            "threshold": outcome.threshold,
            "projected_pairs": outcome.projected_pairs,
            "seconds": {key: round(value, 2) for key, value in outcome.seconds.items()},
        }
        try:
            with request_context(ip_address=None, channel="cli"):
                return linkage_model_save(
                    actor=None,
                    name=name,
                    settings=outcome.model,
                    training_data=description,
                    metrics=metrics,
                )
        except ApplicationError as error:
            raise CommandError(error.message) from None

    def _write(
        self,
        out: Path,
        suffix: str,
        outcome: engine.LinkageOutcome,
        *,
        model_label: str,
        files: list[Path],
    ) -> None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, frame in (("pairs", outcome.pairs), ("clusters", outcome.clusters)):
                target = out / f"{name}.{suffix}"
                if suffix == "parquet":
                    frame.to_parquet(target, index=False)
                else:
                    frame.to_csv(target, index=False)
            if outcome.trained:
                (out / "model.json").write_text(
                    json.dumps(outcome.model, indent=1), encoding="utf-8"
                )
            run = {
                "inputs": [str(path) for path in files],
                "model": model_label,
                "threshold": outcome.threshold,
                "records": outcome.records,
                "projected_pairs": outcome.projected_pairs,
                "pairs": len(outcome.pairs),
                "seconds": {key: round(value, 2) for key, value in outcome.seconds.items()},
                "finished_at": timezone.now().isoformat(),
            }
            (out / "run.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
        except OSError as error:
            raise CommandError(
                _("%(dir)s: the results could not be written (%(reason)s).")
                % {"dir": out, "reason": error.strerror or error.__class__.__name__}
            ) from None
