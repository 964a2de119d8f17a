"""The mined learner questions (site/learner_questions.csv): well-formed, sourced, and answered where many ask."""
import html
from collections import Counter
from pathlib import Path

import pytest

import tools.site_pages as questions

pytestmark = pytest.mark.backend_free

ROOT = Path(__file__).resolve().parents[1]
ROWS = questions.read_questions()
MIN_MINED = 40


def test_ids_are_unique_and_the_course_questions_are_listed():
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids))
    assert {"Q000", "Q001", "Q002", "Q003", "Q004"} <= set(ids)
    mined = [i for i in ids if i.startswith("L")]
    assert len(mined) >= MIN_MINED, f"only {len(mined)} mined questions"
    assert mined == [f"L{n:03d}" for n in range(1, len(mined) + 1)]


def test_every_row_is_complete_and_every_source_is_https():
    for row in ROWS:
        assert row["question"].strip() and row["cluster"].strip(), row["id"]
        assert row["kind"] in {"issue", "Q&A"}, row
        assert row["source"].startswith("https://"), f"{row['id']}: {row['source']}"


def test_every_cluster_asked_more_than_once_points_at_an_existing_heading():
    sizes = Counter(row["cluster"] for row in ROWS)
    for row in ROWS:
        if sizes[row["cluster"]] > 1:
            assert row["answer"], f"{row['id']}: cluster {row['cluster']!r} has no answer"
        if row["answer"]:
            notebook, anchor = questions.answer_target(row["answer"])
            path = ROOT / notebook
            assert path.exists(), f"{row['id']}: {notebook} does not exist"
            assert anchor in questions.heading_anchors(path), f"{row['id']}: no heading #{anchor} in {notebook}"
    answers = {}
    for row in ROWS:   # one answer per cluster
        assert answers.setdefault(row["cluster"], row["answer"]) == row["answer"], row["cluster"]


def test_slugs_follow_myst_and_bad_answers_are_refused():
    assert questions.slug("7. Saving and loading") == "7-saving-and-loading"
    assert questions.slug("04 · SeqSelfAttention: every parameter") == "04--seqselfattention-every-parameter"
    assert questions.slug("### `attention_width` and `history_only`".lstrip("# ")) == "attention_width-and-history_only"
    with pytest.raises(ValueError, match="notebooks/<file>.ipynb#<heading-anchor>"):
        questions.answer_target("lesson 04, section 7")


def test_the_page_links_every_question_and_error_message_to_its_answer():
    text = questions.page(ROWS)
    for row in ROWS:
        assert row["source"] in text
        if row["error_message"]:
            link = (f'<a href="{questions._page_link(row["answer"])}">'
                    f'<code>{html.escape(row["error_message"])}</code></a>')
            assert link.replace("|", "\\|") in text, row["id"]
    assert text.count('<a href="notebooks/') >= len(ROWS)
