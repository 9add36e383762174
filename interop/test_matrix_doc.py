"""The doc writer replaces its own sections and keeps everything else (hand-written sections were
dropped by an earlier writer that rebuilt the file from its known sections only)."""
from matrix_doc import TITLE, splice

HAND = "## On object storage\n\nwritten by hand\n"


def doc(*parts):
    return TITLE + "".join(parts)


def test_replacing_a_section_keeps_the_hand_written_ones():
    body = doc("\n<!-- their-tables -->\nold A\n<!-- /their-tables -->\n",
               "\n<!-- our-tables -->\nold B\n<!-- /our-tables -->\n", "\n", HAND)
    out = splice(body, "our-tables", "new B")
    assert out == doc("\n<!-- their-tables -->\nold A\n<!-- /their-tables -->\n",
                      "\n<!-- our-tables -->\nnew B\n<!-- /our-tables -->\n", "\n", HAND)
    out = splice(out, "their-tables", "new A\n\n")
    assert out.count(HAND) == 1 and "old" not in out
    assert out.index("new A") < out.index("new B") < out.index(HAND)


def test_a_missing_section_goes_in_its_order():
    body = doc("\n<!-- our-tables -->\nB\n<!-- /our-tables -->\n", "\n", HAND)
    out = splice(body, "their-tables", "A")
    assert out.index("<!-- their-tables -->") < out.index("<!-- our-tables -->") < out.index(HAND)
    only_a = splice(doc("\n", HAND), "their-tables", "A")
    assert only_a.endswith("<!-- their-tables -->\nA\n<!-- /their-tables -->\n") and HAND in only_a
    both = splice(only_a, "our-tables", "B")
    assert both.index("<!-- /their-tables -->") < both.index("<!-- our-tables -->")
    assert both.count(HAND) == 1


def test_the_checked_in_doc_keeps_its_object_storage_section():
    from matrix_doc import DOC
    body = DOC.read_text()
    out = splice(splice(body, "their-tables", "A"), "our-tables", "B")
    assert "## On object storage" in out
    assert out[out.index("<!-- /our-tables -->"):] == body[body.index("<!-- /our-tables -->"):]
