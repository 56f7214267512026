"""A table keeps typed cells; each column says how they print, and a missing figure prints "-"."""
from report import Column, Table, table


def test_cells_print_through_their_column():
    t = Table([Column("arm"), Column("score", "{:.3f}"), Column("clear", lambda v: "yes" if v else "no")],
              [["rag", 0.5, True], ["base", None, False]])
    assert t.labels == ["arm", "score", "clear"]
    assert t.text_rows() == [["rag", "0.500", "yes"], ["base", "-", "no"]]
    assert t.rows[0][1] == 0.5  # the value itself stays a number


def test_a_plain_table_prints_its_text():
    assert table(["a", "b"], [["x", 1]]).text_rows() == [["x", "1"]]
