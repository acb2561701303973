"""Build the project's English spaCy pipeline and install it as the `en_cramps` package.

spaCy's trained pipelines are downloaded from GitHub, which a deployment may not reach, so
we assemble our own: a blank English tokenizer plus the lookup lemmatizer whose tables come
from the `spacy-lookups-data` wheel. Installing it as a package lets Rasa's `SpacyNLP` load
it by name from any working directory.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import spacy

PACKAGE_NAME = "cramps"  # spaCy prefixes the language: the installed name is en_cramps
VERSION = "1.0.0"


def build_pipeline() -> spacy.language.Language:
    """A blank English pipeline with lookup lemmas (no statistical model, no vectors)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta.update(
        {
            "name": PACKAGE_NAME,
            "version": VERSION,
            "description": "Tokenizer and lookup lemmatizer for the foot-cramp assistant",
            "license": "MIT",
        }
    )
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", type=Path, default=Path("build/spacy"))
    args = parser.parse_args()
    pipeline_dir = args.build_dir / "pipeline"
    package_dir = args.build_dir / "package"
    for path in (pipeline_dir, package_dir):
        shutil.rmtree(path, ignore_errors=True)
    package_dir.mkdir(parents=True)

    build_pipeline().to_disk(pipeline_dir)
    print(f"spaCy pipeline written to {pipeline_dir}")
    # spaCy's `package` CLI cannot print its help under the pinned click/typer pair, so the
    # command's function is called directly; it writes a standard pip-installable source tree.
    spacy_package = importlib.import_module("spacy.cli.package")
    spacy_package.package(
        pipeline_dir,
        package_dir,
        name=PACKAGE_NAME,
        version=VERSION,
        create_sdist=False,
        force=True,
        silent=True,
    )
    source = package_dir / f"en_{PACKAGE_NAME}-{VERSION}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--force-reinstall",
            str(source),
        ],
        check=True,
    )
    nlp = spacy.load(f"en_{PACKAGE_NAME}")
    doc = nlp("My calves were cramping and swollen")
    print("installed en_cramps; lemmas:", [t.lemma_ for t in doc])


if __name__ == "__main__":
    main()
